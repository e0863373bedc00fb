"""Which months are rolled up, and which days a pending month still waits for (make status).

Pure functions over what the REST API reports (the newest transform and rollup run per key), so
they are unit-tested without Airflow. A month fires once every calendar day has a successful
transform run (each publishes warehouse_marts): the days without one are what it waits for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sparkify.partition_status import run_cell
from sparkify.partitions import days_of, is_day_key, is_month_key, month_of


@dataclass(frozen=True, slots=True)
class MonthStatus:
    """One month: its days published so far, the newest rollup run's state, what it waits for."""

    month: str
    days: int
    published: int
    rollup: str  # newest rollup run's state (+ run type); without one "pending" (days missing) or "due"
    waiting_for: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return self.rollup.startswith("failed")


def day_ranges(days: Iterable[str]) -> str:
    """Consecutive days folded into ranges: '2018-11-04..2018-11-06, 2018-11-09'."""
    ordered = sorted(dt.date.fromisoformat(day) for day in days)
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in ordered:
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ", ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in ranges)


def month_statuses(
    transform_runs: Mapping[str, Mapping[str, Any]], rollup_runs: Mapping[str, Mapping[str, Any]]
) -> list[MonthStatus]:
    """Every month with a transform or rollup run, oldest first.

    transform_runs: day key -> newest transform run; rollup_runs: month key -> newest rollup run
    (REST API dicts with 'state' and 'run_type'). Keys typed into manual runs that are not days
    (transform) or months (rollups) are left out: they belong to no month.
    """
    published: dict[str, set[str]] = {month: set() for month in rollup_runs if is_month_key(month)}
    for day, run in transform_runs.items():
        if not is_day_key(day):
            continue
        days = published.setdefault(month_of(day), set())
        if run.get("state") == "success":
            days.add(day)
    statuses = []
    for month in sorted(published):
        run = rollup_runs.get(month)
        days = days_of(month)
        missing = tuple(day for day in days if day not in published[month])
        state = run_cell(run) if run else ("pending" if missing else "due")
        statuses.append(MonthStatus(month, len(days), len(published[month]), state, missing))
    return statuses

