"""The status report both front ends render (make status, the health page): what is failed, from plain rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sparkify.dag_ids import ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG
from sparkify.partition_status import counts_by_key
from sparkify.partitions import days_of
from sparkify.status_report import build_report
from sparkify.status_runs import run_dict


def run(key: str | None, state: str, run_type: str = "asset_triggered", run_id: str | None = None) -> dict[str, Any]:
    return {"partition_key": key, "state": state, "run_type": run_type, "dag_run_id": run_id or f"{run_type}__{key}"}


def test_a_failed_rollup_check_fails_the_month_and_a_warned_one_does_not() -> None:
    transform = [run(day, "success") for day in days_of("2018-11") + days_of("2018-12")]
    rollups = [run("2018-11", "success"), run("2018-12", "success")]
    counts = counts_by_key(checks=[("2018-11", "reconcile", "failed"), ("2018-12", "reconcile", "warned")])
    report = build_report(counts, {STAGING_DAG: [], TRANSFORM_DAG: transform, ROLLUP_DAG: rollups})
    months = {month.status.month: month for month in report.months}
    assert months["2018-11"].failed and not months["2018-12"].failed
    assert months["2018-12"].counts.warned_checks == ("reconcile",)
    assert months["2018-11"].rollup_run == rollups[0]
    assert report.failed_days == 0 and report.failed_months == 1 and report.exit_code == 1


def test_without_runs_there_are_days_only_and_nothing_failed_by_runs() -> None:
    counts = counts_by_key(staged=[("2018-11-05", 3)])
    report = build_report(counts, None)
    assert [row.key for row in report.days] == ["2018-11-05"]
    assert report.months == [] and report.invalid == [] and not report.runs_known and report.exit_code == 0


def test_a_failed_newest_transform_run_fails_its_day_and_an_invalid_key_does_not() -> None:
    transform = [run("2018-12-24", "failed", "manual"), run("2018-1-5", "failed", "manual", "manual__typo")]
    report = build_report({}, {STAGING_DAG: [], TRANSFORM_DAG: transform, ROLLUP_DAG: []})
    assert [(row.key, row.failed) for row in report.days] == [("2018-12-24", True)]
    assert [r.run_id for r in report.invalid] == ["manual__typo"] and report.exit_code == 1


def test_a_metadata_row_becomes_the_rest_apis_run() -> None:
    end = dt.datetime(2018, 11, 6, 0, 5, tzinfo=dt.UTC)
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    row = ("sparkify_staging", "backfill__x", DagRunState.SUCCESS, DagRunType.BACKFILL_JOB, "2018-11-05", end)
    assert run_dict(*row) == {
        "dag_id": "sparkify_staging",
        "dag_run_id": "backfill__x",
        "state": "success",
        "run_type": "backfill",
        "partition_key": "2018-11-05",
        "end_date": "2018-11-06T00:05:00+00:00",
    }
    assert run_dict("d", "r", "queued", "manual", None, None)["end_date"] is None


class FakeWarehouse:
    """Answers the status statements from canned rows; tables listed in missing do not exist."""

    schema = "public"

    def __init__(self, rows: dict[str, list[tuple]], missing: frozenset[str] = frozenset()) -> None:
        self.rows, self.missing = rows, missing
        self.params: list[dict] = []

    def table(self, name: str) -> str:
        return f'"public"."{name}"'

    def fetch_one(self, sql: str, params: dict) -> tuple:
        return (0 if params["table"] in self.missing else 1,)

    def fetch_all(self, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        self.params.append(params)
        table = next(name for name in self.rows if f'"public"."{name}"' in sql)
        return [], self.rows[table]


def test_the_warehouse_reader_folds_the_status_statements_and_counts_missing_tables_as_0() -> None:
    from sparkify.config import load_config
    from sparkify.status_warehouse import read_counts

    config = load_config()
    warehouse = FakeWarehouse(
        {
            "staging_events": [("2018-11-05", 300)],
            "rejected_lines": [("2018-11-05", 2)],
            config.fact.name: [("2018-11-05", 232)],
            "dq_results": [("2018-11-05", "songplays_fresh", "warned"), ("2018-11", "reconcile", "failed")],
        },
        missing=frozenset({"rejected_lines"}),
    )
    counts = read_counts(warehouse, config, "2018-11-05", "2018-11-30")  # type: ignore[arg-type]
    assert (counts["2018-11-05"].staged, counts["2018-11-05"].rejected, counts["2018-11-05"].fact) == (300, 0, 232)
    assert counts["2018-11-05"].warned_checks == ("songplays_fresh",)
    assert counts["2018-11"].failed_checks == ("reconcile",)
    assert {p["start"] for p in warehouse.params} == {"2018-11"}  # from the month: its rollup checks too
