"""When a published day must ask for its month's rollup again (issue 15: exactly once per change).

Why: sparkify_rollups fires a month when every day has published warehouse_marts (RollupMapper,
WaitForAll). Airflow 3.3 then treats a re-published day of that month as the first day of a new
wait for the whole month, so a day changed after its month was rolled up asks for the month
itself (RequestRollupOperator, asset rollup_requests). It must ask only when the month's latest
rollup run did not read its current rows, or the last day of a month, whose own event fired the
month's first run, would fire a second one. So:

- the transform's publish task, after every load and check and before warehouse_marts is
  emitted, notes the day's version (its run id) in published_days (:func:`publish_day`);
- a rollup run notes the versions of the month's days in rollup_reads and then the month in
  rollup_months, committed before it reads the fact (:func:`note_rollup_start`);
- a day asks again iff its month was rolled up and the latest run did not read its version
  (:func:`request_needed`). A run that started after the day's publish read its rows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sparkify.config import Config
from sparkify.partitions import month_of
from sparkify.project import PUBLISHED_DAYS_TABLE, ROLLUP_MONTHS_TABLE, ROLLUP_READS_TABLE, open_warehouse, render_for
from sparkify.sqlfiles import render

if TYPE_CHECKING:
    from sparkify.warehouse import Warehouse


def publish_day(config: Config, partition_key: str, version: str) -> None:
    """Note the day's published version (the transform run publishing it); nothing without rollups."""
    if not config.rollups:
        return
    warehouse = open_warehouse(config)
    try:
        params = {"partition_key": partition_key, "version": version}
        warehouse.upsert_from_select(
            PUBLISHED_DAYS_TABLE, render("rollup_months/publish_day.sql"), params, ["partition_key"], "upsert"
        )
    finally:
        warehouse.close()


def note_rollup_start(config: Config, warehouse: Warehouse, month: str) -> None:
    """Note the day versions a rollup run of month is about to read, then that the month started.

    In this order, each committed on its own: a day checking in between finds its month not
    started, and rightly asks for nothing (it was published before, so this run reads it). The
    other order left a window in which a day published before the run found the month started
    and its version not yet noted, and asked for a second run of the month (seen in make
    bench-year: one month of twelve rolled up twice).
    """
    reads = render_for(config, warehouse, ROLLUP_READS_TABLE, "rollup_months/reads.sql")
    warehouse.upsert_from_select(
        ROLLUP_READS_TABLE, reads, {"partition_key": month}, ["month", "partition_key"], "upsert"
    )
    started = {"partition_key": month, "started_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}
    warehouse.upsert_from_select(ROLLUP_MONTHS_TABLE, render("rollup_months/record.sql"), started, ["month"], "upsert")


def request_needed(config: Config, warehouse: Warehouse, partition_key: str) -> str | None:
    """Why the day must ask for its month again, or None when it must not (the reason is logged)."""
    month = month_of(partition_key)
    sql = render_for(config, warehouse, ROLLUP_MONTHS_TABLE, "rollup_months/started.sql")
    started, read = warehouse.fetch_one(sql, {"month": month, "partition_key": partition_key}) or (0, 0)
    if not started or read:
        return None
    return f"month {month} was rolled up without this version of {partition_key}"
