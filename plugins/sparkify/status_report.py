"""The partition status report, assembled once for every front end: `make status` and the health page.

Pure: it takes the warehouse's counts (sparkify.status_warehouse) and the runs of the partition
DAGs, however they were read (the REST API for the CLI, the metadata database inside the API
server: sparkify.status_runs), and decides what is shown and what counts as failed. The front
ends only render it (scripts/status.py as text, sparkify.health_page as HTML and JSON), so a
partition can never be failed in one and healthy in the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sparkify.dag_ids import PARTITION_DAGS, ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG
from sparkify.partition_status import (
    InvalidKeyRun,
    PartitionCounts,
    PartitionRow,
    Run,
    in_window,
    invalid_key_runs,
    month_checks,
    newest_by_key,
    partition_rows,
)
from sparkify.rollup_status import MonthStatus, month_statuses

Runs = Mapping[str, Sequence[Run]]


@dataclass(frozen=True, slots=True)
class MonthRow:
    """One month: its rollup status and the rollup checks that failed or warned."""

    status: MonthStatus
    counts: PartitionCounts = field(default_factory=PartitionCounts)
    rollup_run: Run | None = None

    @property
    def failed(self) -> bool:
        """A failed newest rollup run or a failed rollup check."""
        return self.status.failed or bool(self.counts.failed_checks)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything a status front end shows, for the days and months in start..end (days, inclusive).

    runs_known is False when Airflow could not be asked: run cells are unknown, and the month
    table and the invalid-key runs (both built from runs) are empty.
    """

    days: list[PartitionRow]
    months: list[MonthRow]
    invalid: list[InvalidKeyRun]
    runs_known: bool
    start: str | None = None
    end: str | None = None

    @property
    def failed_days(self) -> int:
        return sum(row.failed for row in self.days)

    @property
    def failed_months(self) -> int:
        return sum(month.failed for month in self.months)

    @property
    def exit_code(self) -> int:
        """1 when a day or a month has a failed run or check (warned checks and invalid keys do not count)."""
        return 1 if self.failed_days or self.failed_months else 0


def build_report(
    counts: Mapping[str, PartitionCounts], runs: Runs | None, start: str | None = None, end: str | None = None
) -> StatusReport:
    """The report from the warehouse's counts and every run of the partition DAGs (oldest first; None: unknown).

    start and end are days (sparkify.partition_status.window turns months into days).
    """
    known = runs is not None
    by_dag: Runs = runs if runs is not None else {dag_id: [] for dag_id in PARTITION_DAGS}
    days = partition_rows(counts, by_dag[STAGING_DAG], by_dag[TRANSFORM_DAG], start, end)
    months: list[MonthRow] = []
    invalid: list[InvalidKeyRun] = []
    if known:
        rollups = newest_by_key(by_dag[ROLLUP_DAG])
        checks = month_checks(counts)
        for status in month_statuses(newest_by_key(by_dag[TRANSFORM_DAG]), rollups):
            if in_window(status.month, start, end):
                months.append(MonthRow(status, checks.get(status.month, PartitionCounts()), rollups.get(status.month)))
        invalid = invalid_key_runs(by_dag, month_dags=[ROLLUP_DAG])
    return StatusReport(days, months, invalid, known, start, end)
