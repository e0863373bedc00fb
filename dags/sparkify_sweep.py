"""
### sparkify_sweep

The late-data sweep: re-stages the recently staged days whose log objects were **added, replaced
or removed** since they were staged, and emits **staging_events** and **staging_songs** for
exactly those days, so `sparkify_transform` (and the month's rollup) follow for each of them.

* `find_changes` compares `event_manifest` (the objects and versions each day was staged from,
  written with the day) with a listing of each staged day's prefix within the lookback window
  (`source.sweep.lookback_days`, ending at the newest staged day). Nothing changed: it is
  skipped, and so is everything after it (no warehouse write, no asset event).
* `stage_events` (mapped, one per changed day) replaces each day as its staging run does;
  `stage_songs` picks up new song files; `check` runs each day's staging checks; `publish` emits
  one event per day on both staging assets.
* Schedule: `source.sweep.schedule` (cron, UTC; hourly by default). By hand:
  `airflow dags trigger sparkify_sweep`.

Everything comes from `config.json`; this file only wires operators together.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, task

from sparkify import alerts, task_docs
from sparkify.assets import STAGING_EVENTS, STAGING_SONGS
from sparkify.config import load_config
from sparkify.dag_ids import SWEEP_DAG
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.find_changes import CHANGES_XCOM, FindChangedPartitionsOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.operators.stage_songs import StageSongsOperator
from sparkify.project import WAREHOUSE_POOL
from sparkify.publish import emit_partitions, sweep_extras
from sparkify.sweep import restage_check_kwargs

config = load_config()

with DAG(
    dag_id=SWEEP_DAG,
    description="Re-stage recently staged days whose log objects were added, replaced or removed.",
    schedule=CronTriggerTimetable(config.source.sweep.schedule, timezone="UTC"),
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # two sweeps at once would re-stage the same days twice
    default_args=alerts.default_args(config),  # task_failed; its runs have no partition: no deadline
    tags=["sparkify", "staging"],
    doc_md=__doc__,
) as dag:
    find_changes = FindChangedPartitionsOperator(task_id="find_changes", doc_md=task_docs.FIND_CHANGES)
    stage_events = StageEventsOperator.partial(
        task_id="stage_events", pool=WAREHOUSE_POOL, map_index_template="{{ task.partition_key }}",
        doc_md=task_docs.STAGE_EVENTS,
    ).expand_kwargs(find_changes.output)
    stage_songs = StageSongsOperator(task_id="stage_songs", pool=WAREHOUSE_POOL, doc_md=task_docs.STAGE_SONGS)

    # Each staging check per re-staged day: a product, which expand_kwargs cannot build from the
    # days alone (Airflow maps one level, over return values only), hence this small task.
    @task(multiple_outputs=False, doc_md=task_docs.PLAN_CHECKS)
    def plan_checks(days: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The kwargs of every staging check for every re-staged day (what each day's staging run checks)."""
        return restage_check_kwargs(config, [day["partition_key"] for day in days])

    checks = DataQualityCheckOperator.partial(
        task_id="check", retries=0, map_index_template="{{ task.partition_key }} {{ task.name }}",
        doc_md=task_docs.CHECK,
    ).expand_kwargs(plan_checks(find_changes.output))

    # One return_value XCom (the days and extras, for the log); no per-key XComs (AIR202).
    @task(multiple_outputs=False, outlets=[STAGING_EVENTS, STAGING_SONGS], doc_md=task_docs.PUBLISH_SWEEP)
    def publish(
        changes: dict[str, Any], staged: Any, songs: dict[str, Any], checked: Any = None, *, outlet_events: Any = None
    ) -> dict[str, Any]:
        """Emit both staging assets once per re-staged day (add_partitions), with why and what was loaded."""
        extra = sweep_extras(changes, staged, songs, checked)
        return emit_partitions(outlet_events, [STAGING_EVENTS, STAGING_SONGS], sorted(changes), extra)

    published = publish(find_changes.output[CHANGES_XCOM], stage_events.output, stage_songs.output, checks.output)
    find_changes >> [stage_events, stage_songs] >> checks >> published
