"""make status: the partition table, the month table and runs with invalid keys, from plain rows.

scripts/status.py reads the warehouse (sql/status/) and the REST API; everything it prints is
built by sparkify.partition_status and status.report from those rows, tested here without either.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest

from sparkify.partition_status import (
    InvalidKeyRun,
    PartitionCounts,
    counts_by_key,
    in_window,
    invalid_key_runs,
    month_checks,
    newest_by_key,
    partition_rows,
    window,
)
from sparkify.rollup_status import days_of
from tests.conftest import REPO

STAGING, TRANSFORM, ROLLUPS = "sparkify_staging", "sparkify_transform", "sparkify_rollups"


@pytest.fixture(scope="module")
def status() -> ModuleType:
    """scripts/status.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("status_script", REPO / "scripts" / "status.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(key: str, state: str, run_type: str = "manual", run_id: str | None = None) -> dict[str, Any]:
    return {"partition_key": key, "state": state, "run_type": run_type, "dag_run_id": run_id or f"{run_type}__{key}"}


def runs(staging: list | None = None, transform: list | None = None, rollups: list | None = None) -> dict[str, list]:
    return {STAGING: staging or [], TRANSFORM: transform or [], ROLLUPS: rollups or []}


def test_warehouse_rows_fold_into_counts_per_key() -> None:
    counts = counts_by_key(
        staged=[("2018-11-05", 300)],
        rejected=[("2018-11-05", 2), ("2018-11-06", 1)],
        fact=[("2018-11-05", 232)],
        checks=[
            ("2018-11-05", "users_key_unique", "failed"),
            ("2018-11-05", "songplays_fresh", "warned"),
            ("2018-11", "reconcile", "error"),
        ],
    )
    assert counts["2018-11-05"] == PartitionCounts(300, 2, 232, ("users_key_unique",), ("songplays_fresh",))
    assert counts["2018-11-06"] == PartitionCounts(0, 1, 0, ())
    assert month_checks(counts) == {"2018-11": PartitionCounts(failed_checks=("reconcile (error)",))}


def test_the_newest_run_per_key_wins_and_keyless_runs_are_left_out() -> None:
    older, newer = run("2018-11-05", "failed", run_id="a"), run("2018-11-05", "success", run_id="b")
    assert newest_by_key([older, newer, {"partition_key": None, "state": "failed"}]) == {"2018-11-05": newer}


@pytest.mark.parametrize(
    ("key", "start", "end", "inside"),
    [
        ("2018-11-05", None, None, True),
        ("2018-11-05", "2018-11-06", None, False),
        ("2018-11-05", None, "2018-11-05", True),
        ("2018-11", "2018-11-06", "2018-11-08", True),  # a month is in the window its days touch
        ("2018-10", "2018-11-06", None, False),
    ],
)
def test_window_compares_days_and_months_by_their_own_length(key: str, start: str, end: str, inside: bool) -> None:
    assert in_window(key, start, end) is inside


def test_a_run_with_an_invalid_key_is_no_partition_row_and_is_listed_apart() -> None:
    counts = counts_by_key(staged=[("2018-11-05", 300)], fact=[("2018-11-05", 232)])
    bad, short = run("2018-13-45", "failed", run_id="manual__bad"), run("2018-1-5", "failed")
    keyless = {**run("", "failed", run_id="manual__none"), "partition_key": None}
    transform = [run("2018-11-05", "success"), bad, short, keyless]
    rows = partition_rows(counts, [], transform)
    assert [row.key for row in rows] == ["2018-11-05"]
    assert not rows[0].failed
    invalid = invalid_key_runs(runs(transform=transform), month_dags=[ROLLUPS])
    assert invalid == [
        InvalidKeyRun(TRANSFORM, "manual__bad", "2018-13-45", "failed", "manual"),
        InvalidKeyRun(TRANSFORM, "manual__2018-1-5", "2018-1-5", "failed", "manual"),
        InvalidKeyRun(TRANSFORM, "manual__none", None, "failed", "manual"),
    ]


def test_rollup_runs_are_judged_by_month_keys() -> None:
    rollups = [run("2018-11", "success"), run("2018-11-05", "failed", run_id="r1")]
    rollups.append(run("2018-1", "failed", run_id="r2"))
    assert [r.run_id for r in invalid_key_runs(runs(rollups=rollups), month_dags=[ROLLUPS])] == ["r1", "r2"]


def test_a_partition_fails_on_a_failed_check_or_a_failed_newest_run() -> None:
    counts = counts_by_key(checks=[("2018-11-06", "users_key_unique", "failed")])
    staging = [run("2018-11-07", "failed", "backfill"), run("2018-11-08", "failed"), run("2018-11-08", "success")]
    rows = {row.key: row for row in partition_rows(counts, staging, [])}
    assert rows["2018-11-06"].failed and rows["2018-11-07"].failed
    assert not rows["2018-11-08"].failed  # re-run successfully: the newest run counts


def test_report_with_an_invalid_key_run_lists_it_and_exits_0(status: ModuleType) -> None:
    counts = counts_by_key(staged=[("2018-11-05", 300)], fact=[("2018-11-05", 232)])
    all_runs = runs(
        staging=[run("2018-11-05", "success", "backfill")],
        transform=[run("2018-11-05", "success", "asset_triggered"), run("2018-13-45", "failed", run_id="manual__x")],
        rollups=[{**run("", "failed", run_id="manual__nokey"), "partition_key": None}],
    )
    lines, code = status.report(counts, all_runs, None, None)
    text = "\n".join(lines)
    assert code == 0, text
    assert "1 partition(s); 0 with a failed run or check" in text
    assert not any(line.startswith("2018-13-45") for line in lines)  # not a partition row
    assert "2 run(s) with invalid keys" in text
    (listed,) = [line for line in lines if "manual__x" in line]
    assert TRANSFORM in listed and "'2018-13-45'" in listed and "failed" in listed
    (keyless,) = [line for line in lines if "manual__nokey" in line]
    assert ROLLUPS in keyless and "(no key)" in keyless


def test_report_exits_1_for_a_failed_partition_and_shows_the_month(status: ModuleType) -> None:
    days = days_of("2018-11")
    counts = counts_by_key(staged=[(d, 10) for d in days], checks=[("2018-11", "reconcile", "failed")])
    transform = [run(d, "success", "asset_triggered") for d in days[:-1]] + [run(days[-1], "failed")]
    lines, code = status.report(counts, runs(transform=transform), "2018-11-01", "2018-11-30")
    text = "\n".join(lines)
    assert code == 1
    assert "30 partition(s); 1 with a failed run or check" in text
    (month,) = [line for line in lines if line.startswith("2018-11 ")]
    assert "29/30" in month and "pending" in month and "1 day(s): 2018-11-30" in month and "reconcile" in month
    assert "invalid keys" not in text


def test_report_without_airflow_shows_question_marks_and_only_the_warehouse(status: ModuleType) -> None:
    counts = counts_by_key(staged=[("2018-11-05", 300)])
    lines, code = status.report(counts, None, None, None)
    (row,) = [line for line in lines if line.startswith("2018-11-05")]
    assert row.split()[4:6] == ["?", "?"]
    assert code == 0 and not any("month" in line for line in lines)


def test_a_window_limits_days_and_months(status: ModuleType) -> None:
    counts = counts_by_key(staged=[("2018-11-05", 1), ("2018-12-05", 1)])
    all_runs = runs(transform=[run("2018-11-05", "success"), run("2018-12-05", "success")])
    lines, _ = status.report(counts, all_runs, "2018-12-01", "2018-12-31")
    keys = [line.split()[0] for line in lines if line[:4].isdigit()]
    assert keys == ["2018-12-05", "2018-12"]


def test_a_warned_check_is_shown_but_fails_nothing(status: ModuleType) -> None:
    counts = counts_by_key(staged=[("2018-11-05", 300)], checks=[("2018-11-05", "songplays_fresh", "warned")])
    lines, code = status.report(counts, runs(transform=[run("2018-11-05", "success")]), None, None)
    (row,) = [line for line in lines if line.startswith("2018-11-05")]
    assert row.endswith("warned: songplays_fresh")
    assert code == 0 and "1 partition(s); 0 with a failed run or check" in lines


def test_failed_and_warned_checks_share_the_checks_cell(status: ModuleType) -> None:
    counts = PartitionCounts(failed_checks=("a", "b (error)"), warned_checks=("c",))
    assert status.checks_cell(counts) == "a, b (error); warned: c"
    assert status.checks_cell(PartitionCounts()) == "-"


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (None, None, (None, None)),
        ("2018-11", "2018-11", ("2018-11-01", "2018-11-30")),
        ("2018-11-05", "2019-02", ("2018-11-05", "2019-02-28")),
        ("", "2018-12-31", (None, "2018-12-31")),
    ],
)
def test_a_range_of_months_is_a_range_of_their_days(start: str, end: str, days: tuple) -> None:
    assert window(start, end) == days


@pytest.mark.parametrize(("start", "end"), [("2018-13", None), ("yesterday", None), ("2018-11-05", "2018-11-04")])
def test_a_range_that_is_no_days_or_months_is_refused(start: str, end: str | None) -> None:
    with pytest.raises(ValueError, match=r"2018-13|yesterday|before it starts"):
        window(start, end)


def test_the_month_end_of_a_range_keeps_its_days(status: ModuleType) -> None:
    counts = counts_by_key(staged=[("2018-11-30", 1), ("2018-12-01", 1)])
    lines, _ = status.report(counts, None, *window("2018-11", "2018-11"))
    assert [line.split()[0] for line in lines if line[:4].isdigit()] == ["2018-11-30"]
