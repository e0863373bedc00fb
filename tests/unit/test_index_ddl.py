"""Index DDL: partition-scoped statements on the fact must not scan the whole table (issue 7)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sparkify.config import load_config
from sparkify.project import index_statements


class FakeWarehouse:
    def table(self, name: str) -> str:
        return f'"s"."{name}"'


def test_songplays_has_a_partition_key_index() -> None:
    statements = index_statements(load_config(), FakeWarehouse())
    assert len(statements) == 1
    statement = sqlglot.parse_one(statements[0], read="postgres")
    assert isinstance(statement, exp.Create) and statement.args.get("exists") is True
    assert statement.find(exp.Table).sql("postgres") == '"s"."songplays"'
    assert "partition_key" in statements[0].split("ON", 1)[1]
