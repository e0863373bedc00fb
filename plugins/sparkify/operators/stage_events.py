"""Stage one day's log events: replace exactly that partition in the staging table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import load_config
from sparkify.parsing import (
    EVENT_COLUMNS,
    REJECT_COLUMNS,
    ParseStats,
    Rejection,
    RejectionSpool,
    iter_lines,
    parse_events,
)
from sparkify.project import REJECTED_TABLE, open_warehouse
from sparkify.s3copy import stage_events_by_copy
from sparkify.sources import partition_objects, source_for

#: How many rejections the log and the failure message show (the table keeps all of them).
SHOWN_REJECTIONS = 5


@dataclass
class LineCount:
    """Raw lines read from the source, counted independently of the parser's output."""

    lines: int = 0

    def counted(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        """Pass lines through, counting them."""
        for line in lines:
            self.lines += 1
            yield line


def build_partition_counts_sql(staging_table: str, rejected_table: str) -> str:
    """Rows of one partition in staging and in rejected_lines; tables are quoted names, the key is bound."""
    return (
        f"SELECT (SELECT COUNT(*) FROM {staging_table} WHERE partition_key = %(partition_key)s),"
        f" (SELECT COUNT(*) FROM {rejected_table} WHERE partition_key = %(partition_key)s)"
    )


def describe_rejections(rejected: Sequence[Rejection], total: int | None = None, limit: int = SHOWN_REJECTIONS) -> str:
    """'key line N: reason; …' for the first rejections (raw text is left out: it may be large or sensitive)."""
    total = len(rejected) if total is None else total
    shown = "; ".join(
        f"{r.source_key} line {r.line_number}"
        + (f" record {r.record_in_line}" if r.record_in_line != 1 else "")
        + f": {r.reason}"
        for r in rejected[:limit]
    )
    more = f"; … {total - min(limit, len(rejected))} more" if total > min(limit, len(rejected)) else ""
    return shown + more


def quarantine_failure(
    partition_key: str,
    records: int,
    loaded: int,
    rejected: Sequence[Rejection],
    max_share: float,
    rejected_count: int | None = None,
) -> str | None:
    """The failure message when the rejected share of records passes max_share (like Redshift MAXERROR).

    rejected: the first rejections (for the message); rejected_count: how many there were in
    all (default len(rejected)). Blank lines are not records and never count.
    """
    count = len(rejected) if rejected_count is None else rejected_count
    if not count:
        return None
    share = count / records if records else 1.0
    if share <= max_share:
        return None
    return (
        f"partition {partition_key}: {count} of {records} records rejected ({share:.2%}, more than "
        f"staging.max_rejected_share {max_share:.2%}); {loaded} rows loaded. First rejections: "
        f"{describe_rejections(rejected, count)}. All of them are kept in {REJECTED_TABLE} "
        f"(partition_key = '{partition_key}'); fix the source object and re-run the partition."
    )


class StageEventsOperator(BaseOperator):
    """Delete the partition and COPY its parsed records in, in one transaction.

    Other partitions are never touched, so runs for different days can go in any order or
    at the same time. Only the day's log objects (``<day>*.json``) are read; anything else under
    the prefix is logged as ignored. Every record ends up loaded or in rejected_lines, and the
    operator checks that (records = loaded + rejected, every line blank or holding a record, in
    its own counts and in the committed tables) before it succeeds. A partition whose rejected
    share passes config's staging.max_rejected_share fails *after* the commit: its rejections
    stay queryable, and the failed task keeps the partition from being published to the
    transform. Both failures raise AirflowFailException because a retry would read the same
    bytes. Returns the counts that the publish step puts into the asset event.
    """

    template_fields = ("partition_key",)
    ui_color = "#fdebd0"

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.partition_key = partition_key
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        config = load_config(self.config_path)
        warehouse = open_warehouse(config)
        if getattr(warehouse, "copies_from_s3", False):
            # Redshift: COPY straight from the partition's objects in S3 (see sparkify.s3copy).
            return stage_events_by_copy(warehouse, config, self.partition_key)
        source = source_for(config.source)
        listing = partition_objects(source, config.source, self.partition_key)
        for obj in listing.ignored:
            self.log.warning("ignored %s: not a log object of the day (<day>*.json)", obj.stored_key)
        rejected = RejectionSpool(self.partition_key, keep=SHOWN_REJECTIONS)
        stats = ParseStats()
        raw = LineCount()
        rows = chain.from_iterable(
            parse_events(
                self.partition_key, obj.stored_key, raw.counted(iter_lines(source.read(obj.key))), rejected, stats
            )
            for obj in listing.objects
        )
        loaded = warehouse.replace_partition(
            config.staging.events_table,
            self.partition_key,
            EVENT_COLUMNS,
            rows,
            REJECTED_TABLE,
            rejected.rows(),
            REJECT_COLUMNS,
        )
        for rejection in rejected.first:
            self.log.warning(
                "rejected %s line %d record %d: %s",
                rejection.source_key,
                rejection.line_number,
                rejection.record_in_line,
                rejection.reason,
            )
        self.log.info(
            "partition %s: %d object(s) (%d ignored), %d lines (%d blank), %d records: %d loaded, %d rejected",
            self.partition_key,
            len(listing.objects),
            len(listing.ignored),
            raw.lines,
            stats.blank_lines,
            stats.records,
            loaded,
            stats.rejected,
        )
        self._verify_accounting(warehouse, config.staging.events_table, raw.lines, stats, loaded)
        failure = quarantine_failure(
            self.partition_key, stats.records, loaded, rejected.first, config.staging.max_rejected_share, stats.rejected
        )
        if failure:
            raise AirflowFailException(failure)
        return {
            "partition_key": self.partition_key,
            "objects": len(listing.objects),
            "ignored_objects": len(listing.ignored),
            "raw_lines": raw.lines,
            "blank_lines": stats.blank_lines,
            "records": stats.records,
            "rows_loaded": loaded,
            "rejected": stats.rejected,
            "rejected_share": round(stats.rejected / stats.records, 6) if stats.records else 0.0,
        }

    def _verify_accounting(self, warehouse: Any, table: str, raw_lines: int, stats: ParseStats, loaded: int) -> None:
        """Fail unless every line and record is accounted for, as counted here and as committed.

        Lines: the parser saw every raw line (counted independently of it), and each non-blank
        line produced at least one record. Records: loaded + rejected, both by the parser's
        counts and in the committed tables; the committed counts catch a loss between the
        parser and the tables (a COPY that wrote fewer rows, rejections that were not stored).
        """
        row = warehouse.fetch_one(
            build_partition_counts_sql(warehouse.table(table), warehouse.table(REJECTED_TABLE)),
            {"partition_key": self.partition_key},
        )
        in_table, in_rejected = (int(row[0]), int(row[1])) if row else (-1, -1)
        lines_ok = raw_lines == stats.lines and stats.records >= raw_lines - stats.blank_lines
        records_ok = stats.records == loaded + stats.rejected and (in_table, in_rejected) == (loaded, stats.rejected)
        if not (lines_ok and records_ok):
            raise AirflowFailException(
                f"partition {self.partition_key}: accounting does not add up: {raw_lines} raw lines "
                f"({stats.lines} seen by the parser, {stats.blank_lines} blank), {stats.records} records = "
                f"{loaded} loaded + {stats.rejected} rejected by the parser, {in_table} rows in {table} + "
                f"{in_rejected} in {REJECTED_TABLE} after commit"
            )
