"""Stage the song catalogue incrementally: only objects not loaded before, or changed since."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from sparkify.config import load_config
from sparkify.parsing import REJECT_COLUMNS, SONG_COLUMNS, ParseStats, RejectionSpool, iter_lines, parse_songs
from sparkify.project import MANIFEST_TABLE, REJECTED_TABLE, open_warehouse
from sparkify.s3copy import stage_songs_by_copy
from sparkify.sources import source_for

BATCH_OBJECTS = 500
#: Rejections of one song object kept in memory before they spill to a temporary file.
SPOOL_MEMORY_BYTES = 64 * 1024


class StageSongsOperator(BaseOperator):
    """Compare the catalogue's objects with the load manifest and stage the new or changed ones.

    Each batch of objects is replaced and recorded in the manifest in one transaction, so an
    interrupted run resumes where it stopped and a finished one is a no-op on re-run.
    """

    ui_color = "#fdebd0"

    def __init__(self, *, config_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        config = load_config(self.config_path)
        source = source_for(config.source)
        warehouse = open_warehouse(config)
        if getattr(warehouse, "copies_from_s3", False):
            # Redshift: COPY the new or changed objects through a COPY manifest (sparkify.s3copy).
            return stage_songs_by_copy(warehouse, config)
        listed = source.list(config.source.songs_prefix.strip("/") + "/")
        known = warehouse.loaded_versions(MANIFEST_TABLE)
        pending = [obj for obj in listed if known.get(obj.stored_key) != obj.version]
        loaded = 0
        stats = ParseStats()
        for start in range(0, len(pending), BATCH_OBJECTS):
            batch = []
            for obj in pending[start : start + BATCH_OBJECTS]:
                rejected = RejectionSpool(None, keep=0, memory_bytes=SPOOL_MEMORY_BYTES)
                rows = list(parse_songs(obj.stored_key, iter_lines(source.read(obj.key)), rejected, stats))
                batch.append((obj.stored_key, obj.version, rows, rejected))
            loaded += warehouse.replace_objects(
                config.staging.songs_table, MANIFEST_TABLE, REJECTED_TABLE, batch, SONG_COLUMNS, REJECT_COLUMNS
            )
        self.log.info(
            "song catalogue: %d object(s) listed, %d new or changed, %d rows loaded, %d rejected",
            len(listed),
            len(pending),
            loaded,
            stats.rejected,
        )
        return {
            "objects_listed": len(listed),
            "objects_loaded": len(pending),
            "rows_loaded": loaded,
            "rejected": stats.rejected,
            "blank_lines": stats.blank_lines,
        }
