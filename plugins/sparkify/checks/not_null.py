"""not_null: rows where any of ``columns`` is NULL."""

from __future__ import annotations

from sparkify.checks.base import CheckType


class NotNull(CheckType):
    """Failing rows: any of ``columns`` is NULL."""

    name = "not_null"
    template = "quality/not_null.sql"
    parameters = {"columns": {"$ref": "#/$defs/column_list"}}
    required = ("columns",)
    provable = True  # NOT NULL constraints on every column


CHECK_TYPE = NotNull()
