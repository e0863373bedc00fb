"""
### sparkify_staging

Stages one UTC day of Sparkify activity logs per run (partition key `YYYY-MM-DD`) and any new
song files, then emits the **staging_events** and **staging_songs** assets, which trigger
`sparkify_transform` for the same partition.

* A run at midnight stages the day that just ended (`run_offset=-1`); if its file has not
  arrived, `wait_for_partition` waits (reschedule mode) and ends *skipped* after the timeout.
* Staging replaces exactly its partition (delete + COPY, one transaction): re-runs, backfills
  and out-of-order runs are safe. Rejected lines go to `rejected_lines`.
* Backfill: `airflow backfill create --dag-id sparkify_staging --from-date 2018-11-01 --to-date 2018-11-30`.

Everything comes from `config.json`; this file only wires operators together.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, CronPartitionTimetable, task

from sparkify import alerts, task_docs
from sparkify.assets import STAGING_EVENTS, STAGING_SONGS
from sparkify.config import load_config
from sparkify.dag_ids import STAGING_DAG
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.partition_sensor import PartitionObjectsSensor
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.operators.stage_songs import StageSongsOperator
from sparkify.partitions import DAY_KEY_FORMAT, KEY_FORMAT
from sparkify.project import WAREHOUSE_POOL
from sparkify.publish import check_summary, set_extras

config = load_config()

with DAG(
    dag_id=STAGING_DAG,
    description="Stage one day of Sparkify logs and new song files; emit staging assets.",
    schedule=CronPartitionTimetable("0 0 * * *", timezone="UTC", run_offset=-1, key_format=DAY_KEY_FORMAT),
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args=alerts.default_args(config),
    deadline=alerts.deadline(config),
    tags=["sparkify", "staging"],
    doc_md=__doc__ + task_docs.manual_run(KEY_FORMAT, "2018-11-05"),
) as dag:
    wait_for_partition = PartitionObjectsSensor(
        task_id="wait_for_partition",
        mode="reschedule",
        poke_interval=300,
        timeout=config.source.wait_timeout_hours * 3600,
        soft_fail=True,
        retries=0,
        on_skipped_callback=alerts.on_partition_skipped(config),
        doc_md=task_docs.WAIT_FOR_PARTITION,
    )
    stage_events = StageEventsOperator(task_id="stage_events", pool=WAREHOUSE_POOL, doc_md=task_docs.STAGE_EVENTS)
    stage_songs = StageSongsOperator(task_id="stage_songs", pool=WAREHOUSE_POOL, doc_md=task_docs.STAGE_SONGS)
    checks = DataQualityCheckOperator.partial(
        task_id="check", retries=0, map_index_template="{{ task.name }}", doc_md=task_docs.CHECK
    ).expand_kwargs(config.check_kwargs(config.staging_checks()))

    # One return_value XCom (the extras by asset name, for the log); no per-key XComs (AIR202).
    @task(
        multiple_outputs=False,
        outlets=[STAGING_EVENTS, STAGING_SONGS],
        doc_md=task_docs.PUBLISH_STAGING,
        on_success_callback=alerts.on_checks_warned(config, checks.task_id),
    )
    def publish(
        events: dict[str, Any], songs: dict[str, Any], checked: Any = None, *, outlet_events: Any = None
    ) -> dict[str, Any]:
        """Emit both staging assets for this partition, with row, rejection and check counts."""
        summary = check_summary(checked)
        return set_extras(outlet_events, {STAGING_EVENTS: {**events, **summary}, STAGING_SONGS: {**songs, **summary}})

    published = publish(stage_events.output, stage_songs.output, checks.output)
    wait_for_partition >> [stage_events, stage_songs] >> checks >> published
