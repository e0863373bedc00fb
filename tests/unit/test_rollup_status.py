"""make status's month table: which months are rolled up and which days a pending month waits for."""

from __future__ import annotations

import pytest

from sparkify.rollup_status import day_ranges, days_of, month_statuses


def run(state: str, run_type: str = "asset_triggered") -> dict[str, str]:
    return {"state": state, "run_type": run_type}


def test_days_of_a_month_follow_the_calendar() -> None:
    assert len(days_of("2019-02")) == 28 and len(days_of("2020-02")) == 29 and len(days_of("2018-12")) == 31
    assert days_of("2018-11")[0] == "2018-11-01" and days_of("2018-11")[-1] == "2018-11-30"


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (["2018-11-04", "2018-11-05", "2018-11-06", "2018-11-09"], "2018-11-04..2018-11-06, 2018-11-09"),
        (["2018-11-30", "2018-12-01"], "2018-11-30..2018-12-01"),
        (["2018-11-09", "2018-11-04"], "2018-11-04, 2018-11-09"),
        ([], ""),
    ],
)
def test_day_ranges_fold_consecutive_days(days: list[str], text: str) -> None:
    assert day_ranges(days) == text


def test_a_month_waits_for_the_days_without_a_successful_transform() -> None:
    transform = {day: run("success") for day in days_of("2018-11") if day not in ("2018-11-04", "2018-11-05")}
    transform["2018-11-05"] = run("failed")
    (november,) = month_statuses(transform, {})
    assert (november.month, november.days, november.published, november.rollup) == ("2018-11", 30, 28, "pending")
    assert november.waiting_for == ("2018-11-04", "2018-11-05")
    assert not november.failed


def test_a_complete_month_shows_its_rollup_run_or_is_due() -> None:
    transform = {day: run("success") for day in days_of("2019-02")}
    (due,) = month_statuses(transform, {})
    assert (due.rollup, due.waiting_for) == ("due", ())
    (done,) = month_statuses(transform, {"2019-02": run("success")})
    assert done.rollup == "success (asset_triggered)"
    (failed,) = month_statuses(transform, {"2019-02": run("failed", "manual")})
    assert failed.failed and failed.rollup == "failed (manual)"


def test_a_forced_partial_month_keeps_listing_its_missing_days_and_bad_keys_are_ignored() -> None:
    transform = {"2018-12-01": run("success"), "2018-13-45": run("failed"), "None": run("failed")}
    rollups = {"2018-12": run("success", "manual"), "2018-13": run("failed", "manual"), "2019-01": run("running")}
    statuses = {s.month: s for s in month_statuses(transform, rollups)}
    assert sorted(statuses) == ["2018-12", "2019-01"]
    assert statuses["2018-12"].published == 1 and len(statuses["2018-12"].waiting_for) == 30
    assert statuses["2019-01"].rollup == "running (asset_triggered)" and statuses["2019-01"].published == 0
