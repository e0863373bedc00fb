"""Stage one day's log events: replace exactly that partition in the staging table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import load_config
from sparkify.parsing import EVENT_COLUMNS, REJECT_COLUMNS, Rejection, iter_lines, parse_events
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


def describe_rejections(rejected: Sequence[Rejection], limit: int = SHOWN_REJECTIONS) -> str:
    """'key line N: reason; …' for the first rejections (raw text is left out: it may be large or sensitive)."""
    shown = "; ".join(f"{r.source_key} line {r.line_number}: {r.reason}" for r in rejected[:limit])
    more = f"; … {len(rejected) - limit} more" if len(rejected) > limit else ""
    return shown + more


def quarantine_failure(
    partition_key: str,
    raw_lines: int,
    loaded: int,
    rejected: Sequence[Rejection],
    max_share: float,
) -> str | None:
    """The failure message when the rejected share passes max_share (like Redshift MAXERROR), else None."""
    if not rejected:
        return None
    share = len(rejected) / raw_lines if raw_lines else 1.0
    if share <= max_share:
        return None
    return (
        f"partition {partition_key}: {len(rejected)} of {raw_lines} lines rejected ({share:.2%}, more than "
        f"staging.max_rejected_share {max_share:.2%}); {loaded} rows loaded. First rejections: "
        f"{describe_rejections(rejected)}. All of them are kept in {REJECTED_TABLE} "
        f"(partition_key = '{partition_key}'); fix the source object and re-run the partition."
    )


class StageEventsOperator(BaseOperator):
    """Delete the partition and COPY its parsed lines in, in one transaction.

    Other partitions are never touched, so runs for different days can go in any order or
    at the same time. Every raw line ends up loaded or in rejected_lines, and the operator
    checks that (raw = loaded + rejected, in its own counts and in the committed tables)
    before it succeeds. A partition whose rejected share passes config's
    staging.max_rejected_share fails *after* the commit: its rejections stay queryable, and
    the failed task keeps the partition from being published to the transform. Both
    failures raise AirflowFailException because a retry would read the same bytes.
    Returns the counts that the publish step puts into the asset event.
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
            # Redshift: COPY straight from the partition's S3 prefix (see sparkify.s3copy).
            return stage_events_by_copy(warehouse, config, self.partition_key)
        source = source_for(config.source)
        objects = partition_objects(source, config.source, self.partition_key)
        rejected: list[Rejection] = []
        raw = LineCount()
        rows = chain.from_iterable(
            parse_events(self.partition_key, obj.key, raw.counted(iter_lines(source.read(obj.key))), rejected)
            for obj in objects
        )
        warehouse = open_warehouse(config)
        loaded = warehouse.replace_partition(
            config.staging.events_table,
            self.partition_key,
            EVENT_COLUMNS,
            rows,
            REJECTED_TABLE,
            (r.row(self.partition_key) for r in rejected),
            REJECT_COLUMNS,
        )
        for rejection in rejected[:SHOWN_REJECTIONS]:
            self.log.warning("rejected %s line %d: %s", rejection.source_key, rejection.line_number, rejection.reason)
        self.log.info(
            "partition %s: %d object(s), %d raw lines, %d rows loaded, %d rejected",
            self.partition_key,
            len(objects),
            raw.lines,
            loaded,
            len(rejected),
        )
        self._verify_accounting(warehouse, config.staging.events_table, raw.lines, loaded, len(rejected))
        failure = quarantine_failure(
            self.partition_key, raw.lines, loaded, rejected, config.staging.max_rejected_share
        )
        if failure:
            raise AirflowFailException(failure)
        return {
            "partition_key": self.partition_key,
            "objects": len(objects),
            "raw_lines": raw.lines,
            "rows_loaded": loaded,
            "rejected": len(rejected),
            "rejected_share": round(len(rejected) / raw.lines, 6) if raw.lines else 0.0,
        }

    def _verify_accounting(self, warehouse: Any, table: str, raw_lines: int, loaded: int, rejected: int) -> None:
        """Fail unless raw = loaded + rejected, both as counted here and as committed in the warehouse.

        The committed counts catch a loss between the parser and the tables (a COPY that wrote
        fewer rows, rejections that were not stored), which the in-process counts cannot see.
        """
        row = warehouse.fetch_one(
            build_partition_counts_sql(warehouse.table(table), warehouse.table(REJECTED_TABLE)),
            {"partition_key": self.partition_key},
        )
        in_table, in_rejected = (int(row[0]), int(row[1])) if row else (-1, -1)
        if raw_lines != loaded + rejected or (in_table, in_rejected) != (loaded, rejected):
            raise AirflowFailException(
                f"partition {self.partition_key}: line accounting does not add up: {raw_lines} raw lines, "
                f"{loaded} loaded + {rejected} rejected by the parser, {in_table} rows in {table} + "
                f"{in_rejected} in {REJECTED_TABLE} after commit"
            )
