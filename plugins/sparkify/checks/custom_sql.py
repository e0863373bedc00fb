"""sql: the failing rows are whatever a query in an sql/ file returns (type ``sql``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sparkify.checks.base import CheckType, ConfigContext, TemplateInput


class CustomSql(CheckType):
    """Failing rows: every row the query returns; it may bind ``%(partition_key)s``."""

    name = "sql"
    template = "quality/custom_sql.sql"
    parameters = {"sql": {"$ref": "#/$defs/sql_path"}}
    required = ("sql",)

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        query, binds = given.embedded_query(given.params["sql"])
        return {"query": query}, binds

    def config_problems(self, check: Mapping[str, Any], where: str, context: ConfigContext) -> list[str]:
        context.require_sql(check.get("sql"), f"{where}.sql")
        return []


CHECK_TYPE = CustomSql()
