"""freshness: hours between the column's newest value and the end of the run's partition day
(or now, for runs without a partition), at most ``max_age_hours``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sparkify.checks.base import CheckType, Measured, TemplateInput, Verdict


class Freshness(CheckType):
    """Passes when the newest value is at most ``max_age_hours`` old; no rows fails."""

    name = "freshness"
    template = "quality/freshness.sql"
    parameters = {
        "column": {"$ref": "#/$defs/identifier"},
        "max_age_hours": {"type": "number", "exclusiveMinimum": 0},
    }
    required = ("column", "max_age_hours")
    thresholds = False  # it measures one number, it has no failing rows to count

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        return {}, {"reference_time": reference_time(given.partition_key, given.now)}

    def judge(self, measured: Measured, params: Mapping[str, Any]) -> Verdict:
        limit, observed = params["max_age_hours"], measured.observed
        return Verdict(observed is not None and observed <= limit, observed, f"age_hours<={limit}")


def reference_time(partition_key: str | None, now: dt.datetime | None = None) -> str:
    """Freshness is measured against the end of the partition's UTC day, else against now.

    The end of the day, not the run's wall-clock time, so that a backfill of an old partition
    judges that day's data by that day's standard and gives the same verdict whenever it runs.
    """
    if partition_key:
        day = dt.date.fromisoformat(partition_key) + dt.timedelta(days=1)
        return f"{day.isoformat()} 00:00:00"
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


CHECK_TYPE = Freshness()
