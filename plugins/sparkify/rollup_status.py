"""Which months are rolled up, and which days a pending month still waits for (make status).

Pure functions over what the REST API reports (the newest transform and rollup run per key), so
they are unit-tested without Airflow. A month fires once every calendar day has a successful
transform run (each publishes warehouse_marts): the days without one are what it waits for.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sparkify.partitions import is_day_key, is_month_key, month_of


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


def days_of(month: str) -> list[str]:
    """Every day key (YYYY-MM-DD) of a month key (YYYY-MM)."""
    year, number = int(month[:4]), int(month[5:7])
    return [dt.date(year, number, day).isoformat() for day in range(1, calendar.monthrange(year, number)[1] + 1)]


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
        missing = tuple(day for day in days_of(month) if day not in published[month])
        state = f"{run['state']} ({run.get('run_type')})" if run else ("pending" if missing else "due")
        statuses.append(MonthStatus(month, len(days_of(month)), len(published[month]), state, missing))
    return statuses

