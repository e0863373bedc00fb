"""Partition keys: validation of keys typed by people, and the range of days a source holds.

Scheduled, backfill and asset-triggered runs get their keys from timetables (always well
formed). Manual runs get whatever someone typed into the UI's *Partition Key* field or sent to
the REST API, so those are checked before any work starts, and fail without retries
(AirflowFailException) with a message saying what a valid key looks like and which days exist.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import SourceConfig
from sparkify.source_layout import layout_of
from sparkify.sources import Source

KEY_FORMAT = "YYYY-MM-DD"
#: Where Airflow 3.3's trigger dialog keeps the field: under the collapsed "Advanced Options", whose
#: help text calls it optional. Every DAG here needs it, so docs and failure messages point there.
TRIGGER_FORM_FIELD = "Trigger → Advanced Options → Partition Key"
#: strftime of a day's partition key (the staging timetable's key_format, the rollup mapper's input).
DAY_KEY_FORMAT = "%Y-%m-%d"
#: strftime of a month's partition key (the rollup runs' keys).
MONTH_KEY_FORMAT = "%Y-%m"
_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")


def validate_partition_key(key: str | None) -> str:
    """The key itself when it is a real UTC day written YYYY-MM-DD; AirflowFailException otherwise."""
    if key in (None, "", "None"):
        raise AirflowFailException(
            f"this run has no partition key: trigger it with a Partition Key ({KEY_FORMAT}, e.g. 2018-11-05;"
            f" UI: {TRIGGER_FORM_FIELD}, REST: \"partition_key\")"
        )
    text = str(key)
    if not _KEY.fullmatch(text):
        raise AirflowFailException(
            f"invalid partition key {text!r}: expected a UTC day as {KEY_FORMAT} (e.g. 2018-11-05)"
        )
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise AirflowFailException(f"invalid partition key {text!r}: {text} is not a calendar day") from None
    return text


MONTH_FORMAT = "YYYY-MM"
_MONTH = re.compile(r"\d{4}-\d{2}")


def validate_month_key(key: str | None) -> str:
    """The key itself when it is a month written YYYY-MM (a rollup run's key); AirflowFailException otherwise.

    Rollup runs created by the scheduler get it from StartOfMonthMapper; a person forcing a
    partial month types it into the trigger form, so it is checked before any work starts.
    """
    text = "" if key in (None, "None") else str(key)
    if not _MONTH.fullmatch(text) or not 1 <= int(text[5:]) <= 12:
        example = "2018-11"
        raise AirflowFailException(
            f"invalid month key {text!r}: a rollup run's Partition Key is a month as {MONTH_FORMAT} (e.g. {example};"
            f" UI: {TRIGGER_FORM_FIELD})"
        )
    return text


def is_day_key(key: str | None) -> bool:
    """Whether key is a day's partition key (what validate_partition_key accepts).

    Why: keys typed into manual runs can be anything; reports (make status) list runs whose key
    is not a day apart instead of failing on them or counting them as partitions.
    """
    try:
        validate_partition_key(key)
    except AirflowFailException:
        return False
    return True


def is_month_key(key: str | None) -> bool:
    """Whether key is a month's partition key (what validate_month_key accepts)."""
    try:
        validate_month_key(key)
    except AirflowFailException:
        return False
    return True


def month_of(day_key: str) -> str:
    """The month (YYYY-MM) a day key (YYYY-MM-DD) belongs to, as StartOfMonthMapper maps it."""
    return validate_partition_key(day_key)[:7]


def days_of(month: str) -> list[str]:
    """Every day key (YYYY-MM-DD) of a month key (YYYY-MM)."""
    year, number = int(month[:4]), int(month[5:7])
    return [dt.date(year, number, day).isoformat() for day in range(1, calendar.monthrange(year, number)[1] + 1)]


def data_range(source: Source, config: SourceConfig) -> tuple[str, str] | None:
    """First and last day that have log objects in the source, or None when it holds none.

    The day of each key is read back through the source's layout (source.events_partition_prefix),
    so any layout works. Lists everything under the layout's root folder, so it is only called to
    explain a failure, never per run.
    """
    layout = layout_of(config)
    days = sorted(day for obj in source.list(layout.root) if (day := layout.day_of(obj.key)))
    return (days[0], days[-1]) if days else None


def describe_range(found: tuple[str, str] | None, location: str) -> str:
    """'the source holds 2018-11-01..2018-11-30' or 'the source holds no log objects'."""
    if found is None:
        return f"the source {location} holds no log objects"
    return f"the source {location} holds {found[0]}..{found[1]}"


def is_manual_run(context: Any) -> bool:
    """True for runs triggered by a person (UI trigger form, REST API, `airflow dags trigger`)."""
    dag_run = context.get("dag_run") if hasattr(context, "get") else None
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "manual"


def partition_end(key: str | None) -> dt.datetime | None:
    """When a partition's period ends, in UTC: a day key's next midnight, a month key's first day of the
    next month; None for anything else (a typo in a manual run has no period, hence no deadline).

    The deadline alerts (sparkify.deadline) count from here, so "day D by 06:00 on D+1" and "month M
    by 06:00 on the 1st" are one setting, whatever the DAG's key is.
    """
    if is_day_key(key):
        return dt.datetime.combine(dt.date.fromisoformat(str(key)), dt.time(), dt.UTC) + dt.timedelta(days=1)
    if is_month_key(key):
        year, month = int(str(key)[:4]), int(str(key)[5:])
        return dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return None
