"""Monthly rollups on the real scheduler (issue 15): a two-month staging backfill gives exactly two
asset-triggered sparkify_rollups runs, each created after its month's last day was published;
re-staging one day of the first month re-fires that month's rollup exactly once and nothing for
the second; a corrected object for a day of the second month, found by the next late-data sweep,
re-runs that day's staging, its transform and the second month's rollup, each once.

Months other tests touch (2018-11) stay pending and are never counted: this test works on
2019-02 and 2019-03 only, generated with the stack's catalogue (same seed and size, so the song
files it uploads are the ones already staged and unchanged), and identifies its runs by run id.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.conftest import TERMINAL, Stack, _upload_to_local_s3, server_time
from tests.e2e.sweeping import partition_sums, sweep_and_follow, sweep_tis, sweeping, wait
from tests.sweep_helpers import with_one_more_nextsong

FIRST, SECOND = "2019-02", "2019-03"
DAYS = [
    (dt.date(2019, 2, 1) + dt.timedelta(days=n)).isoformat()
    for n in range((dt.date(2019, 3, 31) - dt.date(2019, 2, 1)).days + 1)
]
ROLLUP_DAG = "sparkify_rollups"
CORRECTED = "2019-03-30"  # a day of SECOND


@pytest.fixture(scope="module")
def two_months(stack: Stack, generator: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """2019-02-01..2019-03-31 uploaded to the stack's source and staged by one backfill; returns
    the runs of each DAG the backfill caused (staging, transform, rollups)."""
    data: Path = tmp_path_factory.mktemp("two-months")
    # The stack's catalogue (tests/e2e/conftest.py: songs=40, seed=3): no new song files.
    generator.generate(data, dt.date(2019, 2, 1), dt.date(2019, 3, 31), 40, 30, 40, 0.2, 3)
    _upload_to_local_s3(data, os.environ["SPARKIFY_SOURCE"])
    for dag_id in ("sparkify_transform", ROLLUP_DAG, "sparkify_staging"):
        stack.api.unpause(dag_id)
    before = {dag: stack.run_ids(dag) for dag in ("sparkify_staging", "sparkify_transform", ROLLUP_DAG)}
    stack.create_backfill("sparkify_staging", DAYS[0], DAYS[-1], "--reprocess-behavior", "completed")

    def ours(dag: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in stack.new_runs(runs, before[dag]) if r["partition_key"] in DAYS]

    staging = stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: len(ours("sparkify_staging", runs)) == len(DAYS)
        and all(r["state"] in TERMINAL for r in ours("sparkify_staging", runs)),
        timeout=1200,
    )
    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: len(ours("sparkify_transform", runs)) >= len(DAYS)
        and all(r["state"] in TERMINAL for r in ours("sparkify_transform", runs)),
        timeout=900,
    )
    stack.wait_for_runs(
        ROLLUP_DAG,
        lambda runs: {r["partition_key"] for r in stack.new_runs(runs, before[ROLLUP_DAG]) if r["state"] in TERMINAL}
        >= {FIRST, SECOND},
        timeout=300,
    )
    last_end = max(server_time(r["end_date"]) for r in ours("sparkify_transform", transform))
    stack.wait_for_scheduler_pass(after=last_end)  # every rollup run the events cause exists now
    return {
        "staging": ours("sparkify_staging", staging),
        "transform": ours("sparkify_transform", transform),
        "rollups": stack.new_runs(stack.api.list_dag_runs(ROLLUP_DAG), before[ROLLUP_DAG]),
    }


def publish_end(stack: Stack, run: dict[str, Any]) -> dt.datetime:
    """When the transform run's publish task (the warehouse_marts event) ended."""
    path = f"/api/v2/dags/sparkify_transform/dagRuns/{run['dag_run_id']}/taskInstances/publish"
    return server_time(stack.api.api("GET", path)["end_date"])


def test_a_two_month_backfill_rolls_each_month_up_once_after_its_last_day(stack: Stack, two_months) -> None:
    assert {r["state"] for r in two_months["staging"]} == {"success"}
    transform = two_months["transform"]
    assert sorted(r["partition_key"] for r in transform) == DAYS  # one transform run per day
    assert {r["state"] for r in transform} == {"success"}

    rollups = two_months["rollups"]
    assert sorted(r["partition_key"] for r in rollups) == [FIRST, SECOND], rollups
    assert {r["run_type"] for r in rollups} == {"asset_triggered"}
    assert {r["state"] for r in rollups} == {"success"}
    for run in rollups:
        month_days = [r for r in transform if r["partition_key"].startswith(run["partition_key"])]
        assert len(month_days) == {FIRST: 28, SECOND: 31}[run["partition_key"]]
        # Created only once the month's last day had published warehouse_marts.
        assert server_time(run["run_after"]) >= max(publish_end(stack, r) for r in month_days)

    # The rollups hold the months' figures (the reconciliation check passed inside the runs).
    plays = stack.scalar("SELECT SUM(plays) FROM user_activity_monthly WHERE month = %s", (FIRST,))
    fact = stack.scalar(
        "SELECT COUNT(DISTINCT songplay_id) FROM songplays WHERE partition_key BETWEEN %s AND %s",
        ("2019-02-01", "2019-02-28"),
    )
    assert plays == fact > 0
    # Requests were skipped on the first pass through every day: no month was rolled up yet.
    assert stack.scalar("SELECT COUNT(*) FROM rollup_months WHERE month IN (%s, %s)", (FIRST, SECOND)) == 2


def test_restaging_one_day_of_a_rolled_up_month_refires_only_that_month_once(stack: Stack, two_months) -> None:
    before = {dag: stack.run_ids(dag) for dag in ("sparkify_transform", ROLLUP_DAG)}
    figures = stack.scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM user_activity_monthly t")
    staged = stack.api.trigger_partition("sparkify_staging", "2019-02-10")["dag_run_id"]
    stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: any(r["dag_run_id"] == staged and r["state"] in TERMINAL for r in runs),
    )
    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: any(r["state"] in TERMINAL for r in stack.new_runs(runs, before["sparkify_transform"])),
    )
    (followed,) = stack.new_runs(transform, before["sparkify_transform"])
    assert (followed["partition_key"], followed["state"]) == ("2019-02-10", "success")

    stack.wait_for_runs(
        ROLLUP_DAG,
        lambda runs: any(r["state"] in TERMINAL for r in stack.new_runs(runs, before[ROLLUP_DAG])),
        timeout=180,
    )
    stack.wait_for_scheduler_pass(after=server_time(followed["end_date"]))
    refired = stack.new_runs(stack.api.list_dag_runs(ROLLUP_DAG), before[ROLLUP_DAG])
    assert [(r["partition_key"], r["run_type"], r["state"]) for r in refired] == [
        (FIRST, "asset_triggered", "success")
    ], refired
    # The same data re-staged: the re-run month equals what it was.
    after = stack.scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM user_activity_monthly t")
    assert after == figures


def _monthly(stack: Stack, table: str, month: str) -> dict[str, tuple]:
    """A rollup's rows of month, by the rollup's key columns after the month, as text."""
    key = {"user_activity_monthly": "user_id", "song_ranking_monthly": "song_id"}[table]
    return dict(stack.rows(f"SELECT {key}::text, t::text FROM {table} t WHERE month = %s", (month,)))


def test_a_corrected_day_found_by_the_sweep_reruns_its_staging_transform_and_month_rollup(
    stack: Stack, two_months
) -> None:
    activity = {month: _monthly(stack, "user_activity_monthly", month) for month in (FIRST, SECOND)}
    ranking = {month: _monthly(stack, "song_ranking_monthly", month) for month in (FIRST, SECOND)}
    with sweeping(stack, CORRECTED) as day_object:
        rollups_before = stack.run_ids(ROLLUP_DAG)
        sums_before = partition_sums(stack)
        songplays = "SELECT COUNT(*) FROM songplays WHERE partition_key = %s"
        songplays_before = stack.scalar(songplays, (CORRECTED,))
        ids = "SELECT songplay_id, song_id FROM songplays WHERE partition_key = %s"
        ids_before = dict(stack.rows(ids, (CORRECTED,)))
        corrected = with_one_more_nextsong(day_object.original)
        user = str(json.loads(corrected.rsplit(b"\n", 1)[-1])["userId"])
        plays = "SELECT plays FROM user_activity_monthly WHERE month = %s AND user_id::text = %s"
        user_plays_before = stack.scalar(plays, (SECOND, user))
        day_object.replace(corrected)

        sweeps, transforms = sweep_and_follow(stack)
        staged = [
            t["rendered_map_index"]
            for run in sweeps
            for t in sweep_tis(stack, run["dag_run_id"])
            if t["task_id"] == "stage_events" and t["state"] != "skipped"
        ]
        assert staged == [CORRECTED]
        assert [(r["partition_key"], r["run_type"], r["state"]) for r in transforms] == [
            (CORRECTED, "asset_triggered", "success")
        ]
        wait(
            stack,
            ROLLUP_DAG,
            lambda runs: any(r["state"] in TERMINAL for r in stack.new_runs(runs, rollups_before)),
            timeout=300,
        )
        stack.wait_for_scheduler_pass(after=server_time(transforms[0]["end_date"]))
        rollups = stack.new_runs(stack.api.list_dag_runs(ROLLUP_DAG), rollups_before)
        assert [(r["partition_key"], r["run_type"], r["state"]) for r in rollups] == [
            (SECOND, "asset_triggered", "success")
        ], rollups
        # Created only after the corrected day was published again.
        assert server_time(rollups[0]["run_after"]) >= publish_end(stack, transforms[0])

        assert stack.scalar(songplays, (CORRECTED,)) == songplays_before + 1
        assert stack.scalar(plays, (SECOND, user)) == user_plays_before + 1
        sums_after = partition_sums(stack)
        others = {k for k in sums_before if k[1] != CORRECTED}
        assert {k: sums_after.get(k) for k in others} == {k: sums_before[k] for k in others}
        # The first month's rollups untouched; in the second only the user's row changed.
        assert _monthly(stack, "user_activity_monthly", FIRST) == activity[FIRST]
        assert _monthly(stack, "song_ranking_monthly", FIRST) == ranking[FIRST]
        changed = _monthly(stack, "user_activity_monthly", SECOND)
        assert changed.keys() == activity[SECOND].keys()
        assert {u for u in changed if changed[u] != activity[SECOND][u]} == {user}
        # The song ranking moves only when the new play matched a catalogue song (most generated plays
        # do not): then that song's row changed (and maybe others' ranks); else nothing did.
        ((new_song,),) = [(song,) for songplay, song in stack.rows(ids, (CORRECTED,)) if songplay not in ids_before]
        ranked = _monthly(stack, "song_ranking_monthly", SECOND)
        if new_song is None:
            assert ranked == ranking[SECOND]
        else:
            assert ranked[new_song] != ranking[SECOND].get(new_song)
    # sweeping() put the original object back and re-ran the day and its month in process.
    assert _monthly(stack, "user_activity_monthly", SECOND) == activity[SECOND]
    assert _monthly(stack, "song_ranking_monthly", SECOND) == ranking[SECOND]
