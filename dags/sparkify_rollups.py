"""
### sparkify_rollups

Rolls the published days up into **monthly** tables: one run per month (Partition Key `YYYY-MM`)
once **every day** of the month has a `warehouse_marts` event (`PartitionedAssetTimetable` +
`RollupMapper` over a month window, `WaitForAll`). Loads every rollup listed in `config.json`
as mapped tasks, runs the checks on rollup tables, and emits **warehouse_rollups**.

* A month with missing days stays pending (`make status` lists the days it waits for).
* Re-running a day of a month that was already rolled up (re-staging or re-transforming it) runs
  that month's rollup again, once: the transform's `request_rollup` task emits a
  **rollup_requests** event for the month. Each run replaces the whole month, so the tables
  equal a clean load.
* Force a partial month on purpose: trigger this DAG with a month as *Partition Key* (below) or
  `make backfill DAG=rollups START=2018-11 END=2018-11`.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import (
    DAG,
    IdentityMapper,
    MonthWindow,
    PartitionedAssetTimetable,
    RollupMapper,
    StartOfMonthMapper,
    WaitForAll,
    task,
)

from sparkify import alerts, task_docs
from sparkify.assets import ROLLUP_REQUESTS, WAREHOUSE_MARTS, WAREHOUSE_ROLLUPS
from sparkify.config import load_config
from sparkify.dag_ids import ROLLUP_DAG
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.load_rollup import LoadRollupOperator
from sparkify.partitions import DAY_KEY_FORMAT, MONTH_FORMAT, MONTH_KEY_FORMAT
from sparkify.project import WAREHOUSE_POOL
from sparkify.publish import check_summary, mapped_values, set_extras

config = load_config()

with DAG(
    dag_id=ROLLUP_DAG,
    description="Roll published days up into monthly tables once every day of the month is in.",
    # A month fires once every day has a warehouse_marts event, or when a re-published day of a month
    # rolled up before asks for it (rollup_requests, keyed by the month: see RequestRollupOperator).
    schedule=PartitionedAssetTimetable(
        assets=WAREHOUSE_MARTS | ROLLUP_REQUESTS,
        partition_mapper_config={
            WAREHOUSE_MARTS: RollupMapper(
                upstream_mapper=StartOfMonthMapper(input_format=DAY_KEY_FORMAT, output_format=MONTH_KEY_FORMAT),
                window=MonthWindow(),
                wait_policy=WaitForAll(),
            ),
            ROLLUP_REQUESTS: IdentityMapper(),
        },
    ),
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    # One month at a time: two runs of the same month must not replace its rows concurrently.
    max_active_runs=1,
    default_args=alerts.default_args(config),
    deadline=alerts.deadline(config),
    tags=["sparkify", "rollups"],
    doc_md=__doc__ + task_docs.manual_run(MONTH_FORMAT, "2018-11"),
) as dag:
    load_rollups = LoadRollupOperator.partial(
        task_id="load_rollup",
        map_index_template="{{ task.name }}",
        pool=WAREHOUSE_POOL,
        doc_md=task_docs.LOAD_ROLLUP,
    ).expand_kwargs(config.rollup_kwargs())
    checks = DataQualityCheckOperator.partial(
        task_id="check", retries=0, map_index_template="{{ task.name }}", doc_md=task_docs.CHECK
    ).expand_kwargs(config.check_kwargs(config.rollup_checks()))

    # One return_value XCom (the extras by asset name, for the log); no per-key XComs (AIR202).
    @task(
        multiple_outputs=False,
        outlets=[WAREHOUSE_ROLLUPS],
        doc_md=task_docs.PUBLISH_ROLLUPS,
        on_success_callback=alerts.on_checks_warned(config, checks.task_id),
    )
    def publish(
        loaded: Any = None, checked: Any = None, *, outlet_events: Any = None, dag_run: Any = None
    ) -> dict[str, Any]:
        """Emit warehouse_rollups for this month with the rows per rollup and the check summary."""
        rollups = [r.name for r in config.rollups]
        extra = {
            "month": dag_run.partition_key,
            "rollup_rows": dict(zip(rollups, mapped_values(loaded), strict=False)),
            **check_summary(checked),
        }
        return set_extras(outlet_events, {WAREHOUSE_ROLLUPS: extra})

    published = publish(load_rollups.output, checks.output)
    load_rollups >> checks >> published
