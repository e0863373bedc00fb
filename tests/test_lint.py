"""Lint is part of `make test`: ruff (with Airflow's AIR rules) on the code, sqlfluff on sql/.

Both run as subprocesses exactly as a developer would (`ruff check .`, scripts/lint_sql.py), so a
lint failure here reproduces with the same command. The last test proves the SQL linter really
fails on bad SQL (a linter that silently lints nothing would pass the clean-tree test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)


def test_ruff_clean_including_airflow_rules() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", ".")
    assert done.returncode == 0, f"ruff check . failed:\n{done.stdout}\n{done.stderr}"


def test_ruff_config_selects_air_rules() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", "--show-settings", "dags/sparkify_staging.py")
    assert done.returncode == 0, done.stderr
    assert "airflow" in done.stdout.lower() and "AIR" in done.stdout


def test_sqlfluff_clean_on_sql_and_examples() -> None:
    done = _run(sys.executable, "scripts/lint_sql.py")
    assert done.returncode == 0, f"sqlfluff (scripts/lint_sql.py) found problems:\n{done.stdout}\n{done.stderr}"
    assert " 0 problem(s)" in done.stderr
    files = int(done.stderr.split("sqlfluff: ")[1].split(" file")[0])
    assert files == len([*(REPO / "sql").rglob("*.sql"), *(REPO / "docs" / "examples").rglob("*.sql")])


def test_sqlfluff_fails_on_bad_sql(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("select user_id FROM {{ users }} WHERE partition_key = %(partition_key)s AND\n")
    done = _run(sys.executable, "scripts/lint_sql.py", str(bad))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CP01" in done.stdout or "PRS" in done.stdout, done.stdout
