"""Column names of a table, read from its ``sql/ddl/<table>.sql`` file.

Config validation needs to know which columns a table has so a check naming a misspelt
column fails when the DAG file is parsed, not hours later in a task. The DDL file is the
single source of truth for a table's shape, so the columns are read from it rather than
repeated in config.json. A small scanner (not a SQL parser) is enough because the files
are ours: one ``CREATE TABLE … ( … )`` each, one column or constraint per top-level comma.
It keeps DAG parsing free of heavy dependencies; the unit tests cross-check it against
sqlglot for every shipped DDL file.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ddl_columns", "table_columns"]

_COMMENT = re.compile(r"--[^\n]*")
_CREATE = re.compile(r"\bCREATE\s+TABLE\b", re.IGNORECASE)
# Table-level constraints start with one of these words instead of a column name.
_CONSTRAINT = re.compile(r"^(PRIMARY|UNIQUE|CONSTRAINT|FOREIGN|CHECK|EXCLUDE|LIKE)\b", re.IGNORECASE)
_NAME = re.compile(r'^"?([A-Za-z_][A-Za-z0-9_]*)"?')


def ddl_columns(text: str) -> tuple[str, ...]:
    """Column names, in order, of the first CREATE TABLE statement in ``text``.

    Raises ValueError when there is no CREATE TABLE with a parenthesised body.
    """
    text = _COMMENT.sub("", text)
    match = _CREATE.search(text)
    start = text.find("(", match.end()) if match else -1
    if start < 0:
        raise ValueError("no CREATE TABLE (...) statement found")
    parts: list[str] = []
    depth, current = 0, []
    for char in text[start + 1 :]:
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    else:
        raise ValueError("unbalanced parentheses in CREATE TABLE body")
    parts.append("".join(current))
    columns = []
    for part in (p.strip() for p in parts):
        if not part or _CONSTRAINT.match(part):
            continue
        name = _NAME.match(part)
        if name:
            columns.append(name.group(1).lower())
    return tuple(columns)


def table_columns(sql_dir: Path, table: str) -> tuple[str, ...] | None:
    """Columns of ``table`` from ``sql_dir/ddl/<table>.sql``; None when the file does not exist."""
    path = sql_dir / "ddl" / f"{table}.sql"
    try:
        return ddl_columns(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
