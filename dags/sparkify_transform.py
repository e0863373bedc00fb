"""
### sparkify_transform

Triggered by the **staging_events** and **staging_songs** asset events of one partition
(`PartitionedAssetTimetable` + `StartOfDayMapper` from day keys to the same day keys: exactly
one run per partition key, also under backfills). Loads the `songplays` fact for the partition,
then every dimension and every quality check listed in `config.json` as mapped tasks, and emits
**warehouse_marts**.

Re-run a partition from the UI (below), with
`airflow dags clear sparkify_transform --partition-key 2018-11-05 -y`, or through the REST API.
A key that is not a date (`2018-13-45`) is refused by the trigger itself (HTTP 400, shown in the
form): the mapper decodes every key typed into the form.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, PartitionedAssetTimetable, StartOfDayMapper, task

from sparkify import alerts, task_docs
from sparkify.assets import ROLLUP_REQUESTS, STAGING_EVENTS, STAGING_SONGS, WAREHOUSE_MARTS
from sparkify.config import load_config
from sparkify.dag_ids import TRANSFORM_DAG
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.load_dimension import LoadDimensionOperator
from sparkify.operators.load_fact import LoadFactOperator
from sparkify.operators.request_rollup import RequestRollupOperator
from sparkify.partitions import DAY_KEY_FORMAT, KEY_FORMAT
from sparkify.project import WAREHOUSE_POOL
from sparkify.publish import check_summary, mapped_values, set_extras
from sparkify.rollup_tracking import publish_day

config = load_config()

with DAG(
    dag_id=TRANSFORM_DAG,
    description="Load songplays for a staged partition, then config-mapped dimensions and checks.",
    # Day keys in, the same day keys out. Not IdentityMapper: Airflow's trigger endpoint asks each
    # mapper to decode a typed key (to_partition_date) and refuses it with HTTP 400 when that
    # fails; IdentityMapper decodes nothing, so it would accept 2018-13-45.
    schedule=PartitionedAssetTimetable(
        assets=STAGING_EVENTS & STAGING_SONGS,
        default_partition_mapper=StartOfDayMapper(input_format=DAY_KEY_FORMAT, output_format=DAY_KEY_FORMAT),
    ),
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args=alerts.default_args(config),
    deadline=alerts.deadline(config),
    tags=["sparkify", "marts"],
    doc_md=__doc__ + task_docs.manual_run(KEY_FORMAT, "2018-11-05"),
) as dag:
    load_fact = LoadFactOperator(
        task_id=f"load_fact_{config.fact.name}", pool=WAREHOUSE_POOL, doc_md=task_docs.LOAD_FACT
    )
    load_dimensions = LoadDimensionOperator.partial(
        task_id="load_dimension", map_index_template="{{ task.name }}", pool=WAREHOUSE_POOL,
        doc_md=task_docs.LOAD_DIMENSION,
    ).expand_kwargs(config.dimension_kwargs())
    checks = DataQualityCheckOperator.partial(
        task_id="check", retries=0, map_index_template="{{ task.name }}", doc_md=task_docs.CHECK
    ).expand_kwargs(config.check_kwargs(config.transform_checks()))

    # One return_value XCom (the extras by asset name, for the log); no per-key XComs (AIR202).
    @task(
        multiple_outputs=False,
        outlets=[WAREHOUSE_MARTS],
        doc_md=task_docs.PUBLISH_TRANSFORM,
        on_success_callback=alerts.on_checks_warned(config, checks.task_id),
    )
    def publish(
        songplays: int, merged: Any = None, checked: Any = None, *, outlet_events: Any = None, dag_run: Any = None
    ) -> dict[str, Any]:
        """Emit warehouse_marts for this partition with the fact rows, dimension rows and check summary."""
        dimensions = [d.name for d in config.dimensions]
        publish_day(config, dag_run.partition_key, dag_run.run_id)  # before warehouse_marts is emitted
        extra = {
            "partition_key": dag_run.partition_key,
            config.fact.name: songplays,
            "dimension_rows": dict(zip(dimensions, mapped_values(merged), strict=False)),
            **check_summary(checked),
        }
        return set_extras(outlet_events, {WAREHOUSE_MARTS: extra})

    # After warehouse_marts: a day of a month already rolled up asks for the month again (else skipped).
    request_rollup = RequestRollupOperator(
        task_id="request_rollup", outlets=[ROLLUP_REQUESTS], retries=1, doc_md=task_docs.REQUEST_ROLLUP
    )

    published = publish(load_fact.output, load_dimensions.output, checks.output)
    load_fact >> load_dimensions >> checks >> published >> request_rollup
