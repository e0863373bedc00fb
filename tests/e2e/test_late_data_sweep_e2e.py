"""The late-data sweep on the real scheduler: a corrected day file is re-staged by the next sweep, and
the transform follows for that day only; a sweep that finds nothing emits nothing.

One already-staged day's object is replaced by a copy with one more NextSong event, then
sparkify_sweep is triggered through the REST API: its run re-stages exactly that day, publishes
one staging_events and one staging_songs event keyed by it, and one asset-triggered transform run
for that key follows, with one more songplay; every other partition's rows are unchanged
(checksums). A second sweep finds nothing: its first task is skipped, it emits no asset event and
no transform run appears after a whole scheduling pass.

Independent of the other e2e tests: the window is widened to every staged day for the test (the
stack's config, restored afterwards; other tests stage later days), a first sweep settles whatever
an earlier test left behind, only runs and events created after the test's own snapshots count,
and the original object is put back and the day re-staged at the end, so the stack's warehouse
holds the generator's data again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import KEYS, Stack, server_time
from tests.e2e.sweeping import DayObject, partition_sums, sweep_and_follow, sweep_events, sweep_tis, sweeping
from tests.sweep_helpers import with_one_more_nextsong

DAY = KEYS[1]


@pytest.fixture
def sweep_everything(stack: Stack, staged_keys: list[str]) -> Iterator[DayObject]:
    """DAY's object, with the sweep unpaused over every staged day (tests.e2e.sweeping.sweeping)."""
    with sweeping(stack, DAY) as obj:
        yield obj


def test_a_corrected_day_is_restaged_by_the_sweep_and_the_transform_follows(
    stack: Stack, sweep_everything: DayObject
) -> None:
    songplays = "SELECT COUNT(*) FROM songplays WHERE partition_key = %s"
    songplays_before = stack.scalar(songplays, (DAY,))
    sums_before = partition_sums(stack)
    sweep_everything.replace(with_one_more_nextsong(sweep_everything.original))

    started = time.monotonic()
    runs, transforms = sweep_and_follow(stack)
    elapsed = time.monotonic() - started
    # Exactly that day's staging work in the sweep, then its two events, then one transform run.
    tis = [t for run in runs for t in sweep_tis(stack, run["dag_run_id"])]
    worked = [t for t in tis if t["state"] != "skipped"]  # a scheduled run may find nothing: skipped
    assert [t["rendered_map_index"] for t in worked if t["task_id"] == "stage_events"] == [DAY]
    assert {t["rendered_map_index"].split()[0] for t in worked if t["task_id"] == "check"} == {DAY}
    assert {t["state"] for t in worked} == {"success"}
    assert sweep_events(stack, {r["dag_run_id"] for r in runs}) == [("staging_events", DAY), ("staging_songs", DAY)]
    assert [(r["partition_key"], r["run_type"], r["state"]) for r in transforms] == [
        (DAY, "asset_triggered", "success")
    ]
    assert stack.scalar(songplays, (DAY,)) == songplays_before + 1
    sums_after = partition_sums(stack)
    others = {k for k in sums_before if k[1] != DAY}
    assert {k: sums_after.get(k) for k in others} == {k: sums_before[k] for k in others}
    assert all(sums_after[(table, DAY)] != sums_before[(table, DAY)] for table in ("staging_events", "songplays"))
    # The month rollup that follows a corrected day of a rolled-up month: tests/e2e/test_rollups_e2e.py.

    # A second sweep: nothing changed, so nothing runs after find_changes and nothing is emitted.
    quiet_started = time.monotonic()
    quiet_runs, quiet_transforms = sweep_and_follow(stack)
    quiet_elapsed = time.monotonic() - quiet_started
    for run in quiet_runs:
        quiet_tis = sweep_tis(stack, run["dag_run_id"])
        assert {t["task_id"]: t["state"] for t in quiet_tis} == dict.fromkeys(
            ("find_changes", "stage_events", "stage_songs", "plan_checks", "check", "publish"), "skipped"
        )
        # Skipped by the scheduler, the others were never queued to the executor (no worker process).
        ran = [t["task_id"] for t in quiet_tis if t["queued_when"] is not None]
        assert ran == ["find_changes"], [  # one task instance ran: the whole cost of an unchanged sweep
            (t["task_id"], t["queued_when"], t["try_number"], t["hostname"], t["pid"]) for t in quiet_tis
        ]
    assert sweep_events(stack, {r["dag_run_id"] for r in quiet_runs}) == []
    assert quiet_transforms == []
    durations = [(server_time(r["end_date"]) - server_time(r["start_date"])).total_seconds() for r in quiet_runs]
    print(
        f"\n[sweep e2e] corrected day: sweep + transform {elapsed:.1f} s, {len(worked)} sweep task instances ran; "
        f"unchanged sweep: 1 task instance ran, run {max(durations):.1f} s ({quiet_elapsed:.1f} s with the waits)"
    )
