"""Task documentation shown in the Airflow UI (task instance → *Task Docs*).

Kept out of the DAG files so they stay wiring only; each text says what the task does for one
partition, what it writes, and what to do when it fails, because that is what someone looking
at a red square in the grid needs.
"""

from __future__ import annotations

from sparkify.partitions import TRIGGER_FORM_FIELD


def manual_run(key_form: str, example: str) -> str:
    """The DAG docs' section on triggering one partition by hand (appended to each DAG's doc_md).

    Why: Airflow 3.3's trigger dialog shows *Partition Key* only inside the collapsed *Advanced
    Options*, with a help text calling it optional; a newcomer triggers without it and gets a
    failed run. The DAG page's *Docs* is where they look first.
    """
    return f"""
#### Manual run of one partition
*{TRIGGER_FORM_FIELD}*: `{example}` ({key_form}). *Trigger* is the button at the top right of
the DAG page; *Advanced Options* is collapsed, click it open. The form marks the field *Optional*;
for this DAG it is **required**: a run without it fails at its first task, whose message says so.
Over the REST API the field is `"partition_key"` (docs/operations.md, *Manual runs*).
"""

WAIT_FOR_PARTITION = """\
#### wait_for_partition
Waits (reschedule mode, no worker slot held) until the day's log objects exist under
`log_data/YYYY/MM/<partition_key>*`; after `source.wait_timeout_hours` the run ends **skipped**,
never failed (with `alerts` configured, that skip sends one *partition_skipped* e-mail).

**Manual runs** (*Trigger* → *Advanced Options* → *Partition Key*) are validated first and fail at once, without
retries, when the key is not `YYYY-MM-DD` or the source has no objects for that day (the message
names the range of days the source holds).
"""

STAGE_EVENTS = """\
#### stage_events
First creates the tables of `config.json` when their DDL (`sql/ddl/*.sql`) changed, so a fresh
warehouse needs no setup (else that costs one query; `stage_songs` and `load_fact_songplays` do
the same). Then deletes this partition from `staging_events` and COPYs the records of the day's log objects
(`<day prefix>*.json`, the prefix from `source.events_partition_prefix`; other objects under it
are logged as ignored) back in, in one transaction: re-runs and backfills never touch other days.
Records that cannot be loaded go to `rejected_lines` with the reason; blank lines are counted, not
records. Fails (no retry) when the rejected share of records passes `staging.max_rejected_share`.
Its counts (lines, blank lines, records, loaded, rejected, ignored objects) become the extras of
the `staging_events` asset event.
"""

STAGE_SONGS = """\
#### stage_songs
Stages only the song objects that are new or changed since the last load (`load_manifest`:
key + ETag/size), so the catalogue load is a no-op on most runs.
"""

CHECK = """\
#### check
One mapped task per data-quality check in `config.json` (the map index shows the check's name).
Every execution is recorded in `dq_results` with the observed value and up to 10 failing rows.
Severity `error` fails without retry and stops the partition; `warn` only logs. A check with
`warn_if`/`error_if` thresholds is judged by those instead (error_if: fails, warn_if: logs).
"""

PUBLISH_STAGING = """\
#### publish
Emits the `staging_events` and `staging_songs` asset events for this partition, with extras:
partition key, rows loaded, rejected lines and the staging checks' summary. They trigger
`sparkify_transform` for the same partition key.
"""

LOAD_FACT = """\
#### load_fact
Replaces this partition's rows of the fact table with the output of its model (`sql/marts/`),
delete + insert in one transaction. A **manual** run first checks that the key is a day and that
the day is staged, and fails with a clear message otherwise.
"""

LOAD_DIMENSION = """\
#### load_dimension
One mapped task per dimension in `config.json` (the map index shows the table's name). Merges
the model's rows with the dimension's load mode (`insert_missing`, `upsert`, `upsert_latest`):
idempotent and independent of the order partitions load in.
"""

PUBLISH_TRANSFORM = """\
#### publish
Emits the `warehouse_marts` asset event with the partition key, the fact rows, rows merged per
dimension and the checks' summary.
"""

LOAD_ROLLUP = """\
#### load_rollup
One mapped task per rollup in `config.json` (the map index shows the table's name). Replaces the
month's rows (the run's Partition Key, `YYYY-MM`) with the rollup model's output in one
transaction: re-running a month gives the same table as a clean load.
"""

PUBLISH_ROLLUPS = """\
#### publish
Emits the `warehouse_rollups` asset event with the month, the rows loaded per rollup and the
checks' summary.
"""

REQUEST_ROLLUP = """\
#### request_rollup
Skipped unless this day's month was already rolled up. Then it emits a `rollup_requests` event
for the month (`YYYY-MM`), and `sparkify_rollups` rolls the month up again once, with this day's
new rows. (Airflow's RollupMapper alone would wait for every day of the month a second time.)
"""

FIND_CHANGES = """\
#### find_changes
Compares `event_manifest` (the objects and versions each staged day was staged from) with a
listing of each staged day's prefix within the lookback window (`source.sweep.lookback_days`,
ending at the newest staged day). The days whose objects were added, replaced or removed are
re-staged by the tasks after it. **Skipped** when nothing changed: then every later task is
skipped too, and the sweep writes nothing and emits no asset event. A day whose objects are all
gone is only logged (a warning) unless `source.allow_empty_partitions` is true.
"""

PLAN_CHECKS = """\
#### plan_checks
Lists every staging check of `config.json` once per re-staged day, for the mapped `check` task
(the map index shows the day and the check's name): each day is checked as its staging run checks it.
"""

PUBLISH_SWEEP = """\
#### publish
Emits `staging_events` and `staging_songs` once per re-staged day (each event carries the day's
partition key), so `sparkify_transform` runs once for each of them. The extras list, per day,
the object keys added / replaced / removed and the rows loaded and rejected. Runs only when every
re-staged day and its checks succeeded; otherwise see *Late and corrected files* in docs/operations.md.
"""
