"""unique: values of ``columns`` (together) that occur more than once."""

from __future__ import annotations

from sparkify.checks.base import CheckType


class Unique(CheckType):
    """Failing rows: each duplicated key value counts once."""

    name = "unique"
    template = "quality/unique.sql"
    parameters = {"columns": {"$ref": "#/$defs/column_list"}}
    required = ("columns",)
    provable = True  # a unique index or key on the columns (plus the partition column when scoped)


CHECK_TYPE = Unique()
