"""Render the Jinja-templated statements kept in sql/.

SQL lives in files so it can be read, diffed and linted as SQL. Only identifiers that
passed config validation are rendered into the text; every value (partition keys,
accepted values) stays a bind parameter, so rendering never opens an injection path.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2

from sparkify.paths import SQL_DIR

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def quote_ident(name: str) -> str:
    """Quote one identifier after checking it against the config allow-list pattern."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"invalid SQL identifier {name!r}: must match {IDENTIFIER.pattern}")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    """Schema-qualified, quoted table name."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


@lru_cache(maxsize=8)
def _environment(sql_dir: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(sql_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - SQL, not HTML; identifiers are validated and quoted
        keep_trailing_newline=False,
    )


def render(relative_path: str, sql_dir: Path = SQL_DIR, **context: object) -> str:
    """Render sql/<relative_path> with the given context; unknown variables are errors."""
    template = _environment(str(sql_dir)).get_template(relative_path)
    return template.render(**context).strip()


def compile_all(sql_dir: Path = SQL_DIR) -> int:
    """Compile every template under sql/ into the environment's cache; returns how many.

    Why: the scheduler's plugin module calls it before it forks task processes, so they find the
    statements compiled (Jinja compiles a template on its first use in each process).
    """
    environment = _environment(str(sql_dir))
    names = sorted(path.relative_to(sql_dir).as_posix() for path in sql_dir.rglob("*.sql"))
    for name in names:
        environment.get_template(name)
    return len(names)
