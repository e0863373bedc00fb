"""A staging backfill of 3 days gives exactly 3 asset-triggered transform runs, one per partition.

Runs on the real scheduler, verified only through the REST API and the warehouse.
"""

from __future__ import annotations

from typing import Any

KEYS = ["2018-11-01", "2018-11-02", "2018-11-03"]
TERMINAL = {"success", "failed"}


def _backfill_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if r["run_type"] == "backfill"]


def test_backfill_three_days_triggers_exactly_three_transform_runs(stack) -> None:
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    stack.airflow(
        "backfill",
        "create",
        "--dag-id",
        "sparkify_staging",
        "--from-date",
        KEYS[0],
        "--to-date",
        KEYS[-1],
        "--max-active-runs",
        "3",
    )

    staging = stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: len(_backfill_runs(runs)) == 3 and all(r["state"] in TERMINAL for r in _backfill_runs(runs)),
    )
    backfill = _backfill_runs(staging)
    assert sorted(r["partition_key"] for r in backfill) == KEYS
    assert {r["state"] for r in backfill} == {"success"}

    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: len(runs) >= 3 and all(r["state"] in TERMINAL for r in runs),
    )
    assert len(transform) == 3, transform
    assert sorted(r["partition_key"] for r in transform) == KEYS
    assert {r["run_type"] for r in transform} == {"asset_triggered"}
    assert {r["state"] for r in transform} == {"success"}

    # Unpausing also created the current tick's run, for a day whose file has not arrived:
    # it must be waiting (or skipped), never failed.
    scheduled = [r for r in staging if r["run_type"] == "scheduled"]
    assert all(r["state"] != "failed" for r in scheduled), scheduled

    # Asset events carry the partition and the counts of what was staged.
    events = stack.api.api("GET", "/api/v2/assets/events?source_dag_id=sparkify_staging&limit=100")["asset_events"]
    staged = {
        e["partition_key"]: e["extra"]
        for e in events
        if e["extra"].get("rows_loaded") is not None and "objects" in e["extra"]
    }
    assert sorted(staged) == KEYS
    assert sum(extra["rows_loaded"] for extra in staged.values()) == stack.counts["events"]
    assert all(extra["rejected"] == 0 for extra in staged.values())

    assert stack.scalar("SELECT COUNT(*) FROM songplays") == stack.counts["nextsong_with_user"]
    assert stack.scalar("SELECT COUNT(DISTINCT partition_key) FROM songplays") == 3
