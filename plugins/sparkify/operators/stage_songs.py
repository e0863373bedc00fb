"""Stage the song catalogue incrementally: only objects not loaded before, or changed since."""

from __future__ import annotations

from typing import Any

from sparkify.operators.base import WarehouseOperator


class StageSongsOperator(WarehouseOperator):
    """Compare the catalogue's objects with the load manifest and stage the new or changed ones.

    Each batch of objects is replaced and recorded in the manifest in one transaction, so an
    interrupted run resumes where it stopped and a finished one is a no-op on re-run.
    """

    ui_color = "#fdebd0"

    def execute(self, context: Any) -> dict[str, Any]:
        self.ensure_declared_tables()
        result = self.warehouse.stage_songs(self.config)
        self.log.info(
            "song catalogue: %d object(s) listed, %d new or changed, %d rows loaded, %d rejected",
            result["objects_listed"],
            result["objects_loaded"],
            result["rows_loaded"],
            result["rejected"],
        )
        return result
