"""Stage source objects through the Python parser into a warehouse that takes streamed rows.

This is how a day's events and the song catalogue reach PostgreSQL: objects are listed from the
source, split into lines, parsed into typed rows or rejections (sparkify.parsing), and streamed
into the warehouse with COPY in one transaction per partition (or per batch of song objects).
The accounting is checked here, where every count is known: every line is blank or holds a
record, every record is staged or rejected, in the parser's counts and in the committed tables.
A warehouse that loads straight from object storage (Redshift's COPY) stages without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import Config
from sparkify.parsing import (
    EVENT_COLUMNS,
    REJECT_COLUMNS,
    SONG_COLUMNS,
    ParseStats,
    Rejection,
    RejectionSpool,
    iter_lines,
    parse_events,
    parse_songs,
)
from sparkify.project import MANIFEST_TABLE, REJECTED_TABLE
from sparkify.sources import SourceObject, partition_objects, source_for
from sparkify.sqlfiles import render
from sparkify.sweep import ManifestEntry

log = logging.getLogger(__name__)

#: How many rejections the log and the failure message show (the table keeps all of them).
SHOWN_REJECTIONS = 5
#: Song objects replaced (and recorded in the manifest) per transaction, and the records after which
#: a batch is committed early (files holding many songs): a batch's rows are held in memory, and
#: the catalogue's per-batch work (song_lookup, the latest batch's conflict check) follows its size.
SONG_BATCH_OBJECTS = 500
SONG_BATCH_ROWS = 20_000
#: Rejections of one song object kept in memory before they spill to a temporary file.
SONG_SPOOL_MEMORY_BYTES = 64 * 1024


@dataclass
class StagedPartition:
    """What staging one day's partition did; its extras() are the staging_events asset extras.

    raw_lines and blank_lines are None where the warehouse loaded the objects itself (COPY from
    S3) and no line passed through Python.
    """

    partition_key: str
    objects: int
    ignored_objects: int
    rows_loaded: int
    rejected: int
    raw_lines: int | None = None
    blank_lines: int | None = None
    first_rejections: list[Rejection] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records read: each one is either loaded or rejected."""
        return self.rows_loaded + self.rejected

    def extras(self) -> dict[str, Any]:
        """The counts the publish step puts into the staging_events asset event."""
        counts = {
            "partition_key": self.partition_key,
            "objects": self.objects,
            "ignored_objects": self.ignored_objects,
            "raw_lines": self.raw_lines,
            "blank_lines": self.blank_lines,
            "records": self.records,
            "rows_loaded": self.rows_loaded,
            "rejected": self.rejected,
            "rejected_share": round(self.rejected / self.records, 6) if self.records else 0.0,
        }
        return {key: value for key, value in counts.items() if value is not None}


class RowWarehouse(Protocol):
    """What staging through the parser needs from a warehouse (the PostgreSQL adapter)."""

    def table(self, name: str) -> str: ...

    def fetch_one(self, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None: ...

    def loaded_versions(self, manifest_table: str) -> dict[str, str]: ...

    def replace_partition(
        self,
        table: str,
        partition_key: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        rejected_table: str,
        rejected_rows: Iterable[Sequence[Any]] | None = None,
        reject_columns: Sequence[str] = (),
        manifest: Iterable[ManifestEntry] | None = None,
    ) -> int: ...

    def replace_objects(
        self,
        table: str,
        manifest_table: str,
        rejected_table: str,
        objects: Sequence[tuple[str, str, list[Sequence[Any]], Any]],
        columns: Sequence[str],
        reject_columns: Sequence[str],
    ) -> int: ...


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
    return render("staging/partition_counts.sql", this=staging_table, rejected_lines=rejected_table)


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


def stage_events_with_parser(warehouse: RowWarehouse, config: Config, partition_key: str) -> StagedPartition:
    """Replace one partition with the parsed records of the day's log objects, then verify the accounting.

    Only the day's log objects (``<day>*.json``) are read; anything else under the prefix is
    logged as ignored. Raises AirflowFailException when the accounting does not add up (a
    retry would read the same bytes).
    """
    source = source_for(config.source)
    listing = partition_objects(source, config.source, partition_key)
    for obj in listing.ignored:
        log.warning("ignored %s: not a log object of the day (<day>*.json)", obj.stored_key)
    rejected = RejectionSpool(partition_key, keep=SHOWN_REJECTIONS)
    stats = ParseStats()
    raw = LineCount()
    manifest: list[ManifestEntry] = []  # filled as each object's rows are consumed by the COPY

    def object_rows(obj: SourceObject) -> Iterator[Sequence[Any]]:
        """The object's parsed rows; once they are exhausted, its manifest entry with its own counts."""
        rejected_before, loaded = stats.rejected, 0
        for row in parse_events(
            partition_key, obj.stored_key, raw.counted(iter_lines(source.read(obj.key))), rejected, stats
        ):
            loaded += 1
            yield row
        manifest.append(ManifestEntry(obj.stored_key, obj.version, loaded, stats.rejected - rejected_before))

    rows = chain.from_iterable(object_rows(obj) for obj in listing.objects)
    table = config.staging.events_table
    loaded = warehouse.replace_partition(
        table, partition_key, EVENT_COLUMNS, rows, REJECTED_TABLE, rejected.rows(), REJECT_COLUMNS, manifest
    )
    for rejection in rejected.first:
        log.warning(
            "rejected %s line %d record %d: %s",
            rejection.source_key,
            rejection.line_number,
            rejection.record_in_line,
            rejection.reason,
        )
    log.info(
        "partition %s: %d object(s) (%d ignored), %d lines (%d blank), %d records: %d loaded, %d rejected",
        partition_key,
        len(listing.objects),
        len(listing.ignored),
        raw.lines,
        stats.blank_lines,
        stats.records,
        loaded,
        stats.rejected,
    )
    verify_accounting(warehouse, table, partition_key, raw.lines, stats, loaded)
    return StagedPartition(
        partition_key=partition_key,
        objects=len(listing.objects),
        ignored_objects=len(listing.ignored),
        rows_loaded=loaded,
        rejected=stats.rejected,
        raw_lines=raw.lines,
        blank_lines=stats.blank_lines,
        first_rejections=list(rejected.first),
    )


def verify_accounting(
    warehouse: RowWarehouse, table: str, partition_key: str, raw_lines: int, stats: ParseStats, loaded: int
) -> None:
    """Fail unless every line and record is accounted for, as counted here and as committed.

    Lines: the parser saw every raw line (counted independently of it), and each non-blank
    line produced at least one record. Records: loaded + rejected, both by the parser's
    counts and in the committed tables; the committed counts catch a loss between the
    parser and the tables (a COPY that wrote fewer rows, rejections that were not stored).
    """
    row = warehouse.fetch_one(
        build_partition_counts_sql(warehouse.table(table), warehouse.table(REJECTED_TABLE)),
        {"partition_key": partition_key},
    )
    in_table, in_rejected = (int(row[0]), int(row[1])) if row else (-1, -1)
    lines_ok = raw_lines == stats.lines and stats.records >= raw_lines - stats.blank_lines
    records_ok = stats.records == loaded + stats.rejected and (in_table, in_rejected) == (loaded, stats.rejected)
    if not (lines_ok and records_ok):
        raise AirflowFailException(
            f"partition {partition_key}: accounting does not add up: {raw_lines} raw lines "
            f"({stats.lines} seen by the parser, {stats.blank_lines} blank), {stats.records} records = "
            f"{loaded} loaded + {stats.rejected} rejected by the parser, {in_table} rows in {table} + "
            f"{in_rejected} in {REJECTED_TABLE} after commit"
        )


def stage_songs_with_parser(warehouse: RowWarehouse, config: Config) -> dict[str, Any]:
    """Stage the song objects that are new or changed (key + version vs the load manifest).

    Each batch of objects is replaced and recorded in the manifest in one transaction, so an
    interrupted run resumes where it stopped and a finished one is a no-op on re-run.
    """
    source = source_for(config.source)
    listed = source.list(config.source.songs_prefix.strip("/") + "/")
    known = warehouse.loaded_versions(MANIFEST_TABLE)
    pending = [obj for obj in listed if known.get(obj.stored_key) != obj.version]
    loaded = 0
    stats = ParseStats()
    batch: list[tuple[str, str, list[Any], RejectionSpool]] = []
    batch_rows = 0
    for position, obj in enumerate(pending, start=1):
        rejected = RejectionSpool(None, keep=0, memory_bytes=SONG_SPOOL_MEMORY_BYTES)
        rows = list(parse_songs(obj.stored_key, iter_lines(source.read(obj.key)), rejected, stats))
        batch.append((obj.stored_key, obj.version, rows, rejected))
        batch_rows += len(rows)
        if len(batch) == SONG_BATCH_OBJECTS or batch_rows >= SONG_BATCH_ROWS or position == len(pending):
            loaded += warehouse.replace_objects(
                config.staging.songs_table, MANIFEST_TABLE, REJECTED_TABLE, batch, SONG_COLUMNS, REJECT_COLUMNS
            )
            batch, batch_rows = [], 0
    return {
        "objects_listed": len(listed),
        "objects_loaded": len(pending),
        "rows_loaded": loaded,
        "rejected": stats.rejected,
        "blank_lines": stats.blank_lines,
    }
