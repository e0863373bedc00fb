#!/usr/bin/env python3
"""Lint sql/ with sqlfluff (postgres dialect, Jinja templater, config in .sqlfluff).

    python scripts/lint_sql.py [FILE_OR_DIR ...]      (default: sql/ and docs/examples/)

Why a wrapper instead of plain ``sqlfluff lint sql/``: our statements have two template layers.
Jinja renders identifiers (``{{ this }}``, ``{{ staging_events }}``), then psycopg binds values
(``%(partition_key)s``). sqlfluff renders Jinja but cannot parse psycopg's pyformat markers, and
it cannot chain its Jinja and placeholder templaters (sqlfluff issue #5675). So each file's
``%(name)s`` markers are rewritten to PostgreSQL's ``:name`` parameter form (which the postgres
dialect parses, on the same line) before the Jinja templater runs. Exit 0 when clean, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sqlfluff.core import FluffConfig, Linter

REPO = Path(__file__).resolve().parents[1]
#: %(name)s, and %({{ p }})s where a Jinja loop generates the bind names (accepted_values).
BIND = re.compile(r"%\((\w+|\{\{[^}]*\}\})\)s")


def sql_files(targets: list[str]) -> list[Path]:
    """Every .sql file under the given files/folders (default: sql/ and the README's docs/examples/)."""
    paths = [Path(t) for t in targets] or [REPO / "sql", REPO / "docs" / "examples"]
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.sql")) if path.is_dir() else [path] if path.exists() else [])
    return out


def lint(paths: list[Path]) -> list[str]:
    """One 'file:line:pos: CODE description' line per violation (empty when clean)."""
    config = FluffConfig.from_path(str(REPO))
    linter = Linter(config=config)
    problems: list[str] = []
    for path in paths:
        text = BIND.sub(r":\1", path.read_text(encoding="utf-8"))
        result = linter.lint_string(text, fname=str(path))
        for violation in result.get_violations():
            record = violation.to_dict()
            try:
                shown = path.resolve().relative_to(REPO)
            except ValueError:
                shown = path
            where = f"{shown}:{record['start_line_no']}:{record['start_line_pos']}"
            problems.append(f"{where}: {record['code']} {record['description']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = sql_files(args)
    problems = lint(files)
    for line in problems:
        print(line)
    print(f"sqlfluff: {len(files)} file(s), {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
