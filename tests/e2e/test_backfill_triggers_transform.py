"""A staging backfill of 3 days gives exactly 3 asset-triggered transform runs, one per partition.

Runs on the real scheduler, verified only through the REST API and the warehouse. Independent of
the other e2e tests: it counts only the runs and asset events its own backfill created (run ids
taken before it), asks Airflow to re-process days an earlier test may already have run
(`--reprocess-behavior completed`, as `make backfill` does), and counts warehouse rows of its
three partitions only.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import KEYS, TERMINAL, server_time


def _backfill_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if r["run_type"] == "backfill"]


def test_backfill_three_days_triggers_exactly_three_transform_runs(stack) -> None:
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    staging_before = stack.run_ids("sparkify_staging")
    transform_before = stack.run_ids("sparkify_transform")
    stack.create_backfill(
        "sparkify_staging", KEYS[0], KEYS[-1], "--max-active-runs", "3", "--reprocess-behavior", "completed"
    )

    def ours(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return _backfill_runs(stack.new_runs(runs, staging_before))

    staging = stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: len(ours(runs)) == 3 and all(r["state"] in TERMINAL for r in ours(runs)),
    )
    backfill = ours(staging)
    assert sorted(r["partition_key"] for r in backfill) == KEYS
    assert {r["state"] for r in backfill} == {"success"}

    def followed(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return stack.new_runs(runs, transform_before)

    stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: len(followed(runs)) >= 3 and all(r["state"] in TERMINAL for r in followed(runs)),
    )
    # "Exactly": no further run appears once the scheduler has made a whole pass after the last
    # staging run ended (its asset events were all there by then).
    stack.wait_for_scheduler_pass(after=max(server_time(r["end_date"]) for r in backfill))
    transform = followed(stack.api.list_dag_runs("sparkify_transform"))
    assert len(transform) == 3, transform
    assert sorted(r["partition_key"] for r in transform) == KEYS
    assert {r["run_type"] for r in transform} == {"asset_triggered"}
    assert {r["state"] for r in transform} == {"success"}

    # Unpausing also created the current tick's run, for a day whose file has not arrived:
    # it must be waiting (or skipped), never failed.
    scheduled = [r for r in staging if r["run_type"] == "scheduled"]
    assert all(r["state"] != "failed" for r in scheduled), scheduled

    # Asset events carry the partition and the counts of what was staged.
    ours_ids = {r["dag_run_id"] for r in backfill}
    events = stack.api.api("GET", "/api/v2/assets/events?source_dag_id=sparkify_staging&limit=1000")["asset_events"]
    staged = {
        e["partition_key"]: e["extra"]
        for e in events
        if e["source_run_id"] in ours_ids and e["extra"].get("rows_loaded") is not None and "objects" in e["extra"]
    }
    assert sorted(staged) == KEYS
    assert sum(extra["rows_loaded"] for extra in staged.values()) == stack.counts["events"]
    assert all(extra["rejected"] == 0 for extra in staged.values())

    songplays = "SELECT COUNT(*) FROM songplays WHERE partition_key = ANY(%s)"
    assert stack.scalar(songplays, (KEYS,)) == stack.counts["nextsong_with_user"]
    partitions = "SELECT COUNT(DISTINCT partition_key) FROM songplays WHERE partition_key = ANY(%s)"
    assert stack.scalar(partitions, (KEYS,)) == 3
