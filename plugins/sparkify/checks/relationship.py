"""relationship: non-NULL values of ``column`` with no matching ``to_column`` in ``to_table``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sparkify.checks.base import CheckType, ColumnRef, ConfigContext, TemplateInput
from sparkify.sqlfiles import quote_ident


class Relationship(CheckType):
    """Failing rows: an orphan child row (its key is not in the parent)."""

    name = "relationship"
    template = "quality/relationship.sql"
    parameters = {
        "column": {"$ref": "#/$defs/identifier"},
        "to_table": {"$ref": "#/$defs/identifier"},
        "to_column": {"$ref": "#/$defs/identifier"},
    }
    required = ("column", "to_table", "to_column")

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        return {
            "to_table": given.tables[given.params["to_table"]],
            "to_column": quote_ident(given.params["to_column"]),
        }, {}

    def config_problems(self, check: Mapping[str, Any], where: str, context: ConfigContext) -> list[str]:
        to_table = check.get("to_table")
        if isinstance(to_table, str) and to_table not in context.tables:
            return [f"{where}.to_table: unknown table {to_table!r} (known: {', '.join(context.tables)})"]
        return []

    def column_refs(self, check: Mapping[str, Any], where: str) -> list[ColumnRef]:
        return [(check.get("to_table"), check.get("to_column"), f"{where}.to_column")]


CHECK_TYPE = Relationship()
