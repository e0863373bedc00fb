"""Pure SQL builders shared by the adapters: partition delete, COPY, PostgreSQL's upsert.

Only dialect mechanics live here (the statement shapes a model's rows are moved with); what a
model selects lives in sql/ files. Every function is pure and unit-tested without a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sparkify.config import LOAD_MODES
from sparkify.sqlfiles import quote_ident


def upsert_updates(columns: Sequence[str], key: Sequence[str], mode: str, version_columns: Sequence[str]) -> list[str]:
    """Validate a dimension merge (both dialects' builders call this) and return the non-key columns.

    An empty list means nothing can change on a key match (insert_missing, or every column is
    part of the key): the merge only inserts missing keys.
    """
    if mode not in LOAD_MODES:
        raise ValueError(f"unknown load mode {mode!r}; expected one of {LOAD_MODES}")
    if not key or not set(key) <= set(columns):
        raise ValueError(f"key {list(key)} must be a non-empty subset of columns {list(columns)}")
    updates = [c for c in columns if c not in key]
    if mode == "insert_missing":
        return []
    if updates and mode == "upsert_latest" and (not version_columns or not set(version_columns) <= set(columns)):
        raise ValueError(f"upsert_latest needs version_columns within {list(columns)}")
    return updates


def build_upsert_sql(
    table: str,
    source: str,
    columns: Sequence[str],
    key: Sequence[str],
    mode: str,
    version_columns: Sequence[str] = (),
) -> str:
    """PostgreSQL INSERT ... ON CONFLICT moving rows from source (a temp table) into table.

    - insert_missing: keep existing rows (time: a timestamp's attributes never change).
    - upsert: overwrite changed rows; unchanged rows are not rewritten.
    - upsert_latest: overwrite only when the incoming version tuple is greater, which makes the
      result independent of the order partitions load in ("latest level wins").
    """
    updates = upsert_updates(columns, key, mode, version_columns)
    cols = ", ".join(quote_ident(c) for c in columns)
    keys = ", ".join(quote_ident(c) for c in key)
    sql = f"INSERT INTO {table} AS target ({cols})\nSELECT {cols} FROM {source}\nON CONFLICT ({keys}) DO "
    if not updates:
        return sql + "NOTHING"
    assignments = ", ".join(f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in updates)
    if mode == "upsert":
        old = ", ".join(f"target.{quote_ident(c)}" for c in updates)
        new = ", ".join(f"EXCLUDED.{quote_ident(c)}" for c in updates)
        guard = f"ROW({old}) IS DISTINCT FROM ROW({new})"
    else:
        old = ", ".join(f"target.{quote_ident(c)}" for c in version_columns)
        new = ", ".join(f"EXCLUDED.{quote_ident(c)}" for c in version_columns)
        guard = f"ROW({new}) > ROW({old})"
    return sql + f"UPDATE SET {assignments}\nWHERE {guard}"


def build_delete_partition_sql(table: str, partition_column: str) -> str:
    """DELETE of exactly one partition; the key is a bind parameter."""
    return f"DELETE FROM {table} WHERE {quote_ident(partition_column)} = %(partition_key)s"


def build_copy_sql(table: str, columns: Sequence[str], binary: bool = False) -> str:
    """COPY ... FROM STDIN for psycopg's streaming copy (no temp files, no newline traps).

    binary: PostgreSQL's binary COPY format; the caller must set the columns' types.
    """
    sql = f"COPY {table} ({', '.join(quote_ident(c) for c in columns)}) FROM STDIN"
    return sql + " (FORMAT BINARY)" if binary else sql


_DDL_DIGEST = re.compile(r"sparkify-ddl:[0-9a-f]{32}")


def build_schema_comment_sql(schema: str, digest: str) -> str:
    """COMMENT ON SCHEMA recording a DDL digest (COMMENT takes no bind parameter: it is validated)."""
    if not _DDL_DIGEST.fullmatch(digest):
        raise ValueError(f"not a DDL digest: {digest!r}")
    return f"COMMENT ON SCHEMA {quote_ident(schema)} IS '{digest}'"
