"""What `make status` shows per partition, built from plain rows: no database, no REST calls.

The warehouse side arrives as (key, count) rows per table and (key, check, status) rows of the
latest check results (sql/status/); the Airflow side as REST API run dicts (oldest first, as
``GET /api/v2/dags/{id}/dagRuns?order_by=id`` lists them). Keeping the assembly pure lets it be
unit-tested, and lets another front end (a UI page) show the same table from the same rows.

A partition is a day (YYYY-MM-DD). A manual run can carry any key someone typed that Airflow did
not refuse at trigger time (``2018-1-5`` passes strptime), or none at all (the trigger form calls
the field optional); such a run fails at its first task, did nothing to the warehouse and belongs
to no day, so it is listed apart as a run with an invalid key, never as a partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sparkify.checks.base import FAILED, WARNED
from sparkify.partitions import days_of, is_day_key, is_month_key

Run = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PartitionCounts:
    """What the warehouse holds for one key: staged rows, rejected lines, fact rows, failing and warned checks."""

    staged: int = 0
    rejected: int = 0
    fact: int = 0
    failed_checks: tuple[str, ...] = ()
    warned_checks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PartitionRow:
    """One partition: its warehouse counts and the newest staging and transform run (None: no run)."""

    key: str
    counts: PartitionCounts = field(default_factory=PartitionCounts)
    staging_run: Run | None = None
    transform_run: Run | None = None

    @property
    def failed(self) -> bool:
        """A failed check or a failed newest run: what makes `make status` exit 1."""
        runs = (self.staging_run, self.transform_run)
        return bool(self.counts.failed_checks) or any(run and run.get("state") == "failed" for run in runs)


@dataclass(frozen=True, slots=True)
class InvalidKeyRun:
    """A run whose partition key is not a key of its DAG (not a day, or for rollups not a month)."""

    dag_id: str
    run_id: str
    partition_key: str | None
    state: str
    run_type: str


def counts_by_key(
    staged: Iterable[tuple[str, int]] = (),
    rejected: Iterable[tuple[str, int]] = (),
    fact: Iterable[tuple[str, int]] = (),
    checks: Iterable[tuple[str, str, str]] = (),
) -> dict[str, PartitionCounts]:
    """Warehouse rows folded into key -> PartitionCounts.

    checks rows are (key, check name, status) of the latest result per check that did not pass
    (sql/status/check_results.sql): ``failed`` is named by the check alone, ``error`` (the check
    could not run) as such, both among the failed checks; ``warned`` (a warn-severity check or a
    warn_if threshold: the pipeline went on) among the warned ones. Month keys are kept too:
    rollup checks are recorded under their month.
    """
    values: dict[str, dict[str, Any]] = {}

    def entry(key: str) -> dict[str, Any]:
        return values.setdefault(key, {"staged": 0, "rejected": 0, "fact": 0, "failed": [], "warned": []})

    for label, rows in (("staged", staged), ("rejected", rejected), ("fact", fact)):
        for key, n in rows:
            entry(key)[label] = n
    for key, check, status in checks:
        if status == WARNED:
            entry(key)["warned"].append(check)
        else:
            entry(key)["failed"].append(check if status == FAILED else f"{check} ({status})")
    return {
        key: PartitionCounts(v["staged"], v["rejected"], v["fact"], tuple(v["failed"]), tuple(v["warned"]))
        for key, v in values.items()
    }


def newest_by_key(runs: Iterable[Run]) -> dict[str, Run]:
    """key -> the newest run for it, from runs listed oldest first; runs without a key are left out."""
    return {run["partition_key"]: run for run in runs if run.get("partition_key")}


def in_window(key: str, start: str | None, end: str | None) -> bool:
    """Whether a day or month key lies in start..end (inclusive; a month by its own prefix)."""
    lo, hi = (start or "0000")[: len(key)], (end or "9999")[: len(key)]
    return lo <= key <= hi


def window(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """A report's range as days: a month start is its first day, a month end its last.

    Why: the range may be given as days or months (``?start=2018-11&end=2018-11``, ``make status
    START=2018-11``), while the tables hold day keys, which sort after their month's key: an end
    month kept as ``2018-11`` would leave out every day of it. Raises ValueError for anything
    that is neither a day nor a month, or an end before the start.
    """
    days = []
    for bound, which in ((start, "first"), (end, "last")):
        if bound in (None, ""):
            days.append(None)
        elif is_day_key(bound):
            days.append(bound)
        elif is_month_key(bound):
            month_days = days_of(bound)
            days.append(month_days[0] if which == "first" else month_days[-1])
        else:
            raise ValueError(f"{bound!r} is neither a day (YYYY-MM-DD) nor a month (YYYY-MM)")
    first, last = days
    if first and last and last < first:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return first, last


def partition_rows(
    counts: Mapping[str, PartitionCounts],
    staging_runs: Iterable[Run] = (),
    transform_runs: Iterable[Run] = (),
    start: str | None = None,
    end: str | None = None,
) -> list[PartitionRow]:
    """One row per day in start..end that the warehouse holds something for or that has a run.

    Month keys in counts (rollup checks) are the month table's, not rows here. A run whose key
    is not a day makes no row (see invalid_key_runs); a key the warehouse holds rows for always
    does, whatever it looks like, so no stored row goes unseen.
    """
    staging, transform = newest_by_key(staging_runs), newest_by_key(transform_runs)
    keys = {key for key in counts if not is_month_key(key)}
    keys |= {key for key in (*staging, *transform) if is_day_key(key)}
    return [
        PartitionRow(key, counts.get(key, PartitionCounts()), staging.get(key), transform.get(key))
        for key in sorted(keys)
        if in_window(key, start, end)
    ]


def month_checks(counts: Mapping[str, PartitionCounts]) -> dict[str, PartitionCounts]:
    """month -> its counts, for the failed and warned rollup checks (recorded under the month key)."""
    return {key: c for key, c in counts.items() if is_month_key(key)}


def invalid_key_runs(runs_by_dag: Mapping[str, Iterable[Run]], month_dags: Iterable[str] = ()) -> list[InvalidKeyRun]:
    """Every run whose key is not a key of its DAG (days, or months for the DAGs in month_dags),
    including runs without a key (scheduled, backfill and asset-triggered runs always have one)."""
    monthly = set(month_dags)
    out = []
    for dag_id, runs in runs_by_dag.items():
        valid = is_month_key if dag_id in monthly else is_day_key
        for run in runs:
            key = run.get("partition_key")
            if not valid(key):
                state, run_type = run.get("state", "?"), run.get("run_type", "?")
                out.append(InvalidKeyRun(dag_id, run["dag_run_id"], key, state, run_type))
    return out


def run_cell(run: Run | None) -> str:
    """'success (backfill)' for a run, '-' for none."""
    return f"{run['state']} ({run.get('run_type')})" if run else "-"
