"""Lint is part of `make test`: ruff (with Airflow's AIR rules, preview ones included) on the code,
sqlfluff on sql/, shellcheck on every shell script.

All run as subprocesses exactly as a developer would (`ruff check .`, scripts/lint_sql.py,
scripts/lint_shell.py), so a lint failure here reproduces with the same command. The bad-input
tests prove each linter really fails on bad input (a linter that silently lints nothing would
pass the clean-tree test).
"""

from __future__ import annotations

import json
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
    # The preview AIR rules run by default (pyproject: preview + explicit-preview-rules).
    assert "airflow-task-implicit-multiple-outputs (AIR202)" in done.stdout


def test_ruff_flags_implicit_multiple_outputs() -> None:
    dag = (
        '"""Probe."""\n\nfrom typing import Any\n\nfrom airflow.sdk import task\n\n\n'
        "@task\ndef publish() -> dict[str, Any]:\n    return {}\n"
    )
    # The repo's pyproject applies: stdin, named as a file in dags/ (nothing is written there).
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "json", "--stdin-filename",
         "dags/_lint_probe.py", "-"],
        cwd=REPO, input=dag, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert [v["code"] for v in json.loads(done.stdout)] == ["AIR202"], done.stdout


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


def test_shellcheck_clean_on_every_shell_script() -> None:
    done = _run(sys.executable, "scripts/lint_shell.py")
    assert done.returncode == 0, f"shellcheck (scripts/lint_shell.py) found problems:\n{done.stdout}\n{done.stderr}"
    assert " 0 problem(s)" in done.stderr
    files = int(done.stderr.split("shellcheck: ")[1].split(" file")[0])
    expected = {REPO / ".ci" / "run", *(REPO / "scripts").glob("*.sh")}
    assert files >= len(expected), done.stderr


def test_shellcheck_finds_every_shell_script() -> None:
    listed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lint_shell.py"), "--list"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    found = {REPO / p for p in listed.stdout.split()}
    # The CI entry point has no .sh suffix; env.sh is sourced (no shebang, a shell directive).
    assert {REPO / ".ci" / "run", REPO / "scripts" / "env.sh", *(REPO / "scripts").glob("*.sh")} <= found
    assert not any(".venv" in p.parts or ".state" in p.parts for p in found)


def test_shellcheck_fails_on_bad_shell(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/usr/bin/env bash\nrm -rf $1/*\n')
    done = _run(sys.executable, "scripts/lint_shell.py", str(bad))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SC2086" in done.stdout or "SC2115" in done.stdout, done.stdout
