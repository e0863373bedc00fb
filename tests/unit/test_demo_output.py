"""make demo prints the project's progress, not its tools' logs: the real scripts/demo.sh, with fakes.

The script runs from a copy of scripts/ in a temporary folder whose service scripts, env.sh and
`make`, `python`, `airflow` commands are fakes that print the kind of noise the real ones do (the
Airflow CLI's two structured lines per created run, a warning on stderr). What reaches the
terminal must be `[demo]` lines on stderr and the summary on stdout; the noise must be in the
log file the script names; the exit code must be the summary's, or the failing step's.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

NOISE = 'echo "noise on stdout from $0 $*"; echo "WARNING: masking noise from $0" >&2'
FAKE_ENV = """\
# shellcheck shell=bash
export SPARKIFY_STATE="$REPO/.state/demo" SPARKIFY_LOGS="$REPO/.state/demo/logs"
export SPARKIFY_PG_HOST=127.0.0.1 SPARKIFY_PG_PORT=1 SPARKIFY_PGDATA=/nonexistent/pgdata
export SPARKIFY_S3_BUCKET=sparkify SPARKIFY_S3_ENDPOINT=http://127.0.0.1:1 SPARKIFY_AWS_CONN_MANAGED=1
"""
FAKE_AIRFLOW_SH = f"""#!/usr/bin/env bash
if [[ "$1" == status ]]; then exit 3; fi
{NOISE}
"""
FAKE_PYTHON = f"""#!/usr/bin/env bash
if [[ "$*" == *"demo_summary.py --start"* ]]; then
    echo "=== Sparkify demo summary ==="; echo "[demo] staging 30/30 done" >&2; exit "${{FAKE_SUMMARY_RC:-0}}"
fi
if [[ "$*" == *"demo_summary.py --wait-backfill-idle"* ]]; then exit 0; fi
{NOISE}
"""
FAKE_AIRFLOW = """#!/usr/bin/env bash
for day in $(seq -w 1 30); do
    echo "2026-01-01T00:00:00Z [info     ] creating dag run   partition_key=2018-11-$day"
    echo "2026-01-01T00:00:00Z [info     ] Created backfill Dag run."
done
echo "WARNING: cannot mask secrets of the connection" >&2
exit "${FAKE_AIRFLOW_RC:-0}"
"""
SUMMARY = ["=== Sparkify demo summary ==="]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A folder with the real scripts/demo.sh and fakes for everything it calls."""
    repo = tmp_path / "repo"
    _write(repo / "scripts" / "demo.sh", (REPO / "scripts" / "demo.sh").read_text(encoding="utf-8"))
    _write(repo / "scripts" / "env.sh", FAKE_ENV)
    for name in ("postgres.sh", "s3.sh"):
        _write(repo / "scripts" / name, f"#!/usr/bin/env bash\n{NOISE}\n")
    _write(repo / "scripts" / "airflow.sh", FAKE_AIRFLOW_SH)
    _write(tmp_path / "bin" / "make", "#!/usr/bin/env bash\nexit 0\n")
    _write(tmp_path / "bin" / "python", FAKE_PYTHON)
    _write(tmp_path / "bin" / "airflow", FAKE_AIRFLOW)
    return repo


def _demo(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "START", "END"))}
    environ |= {"PATH": f"{repo.parent / 'bin'}{os.pathsep}{os.environ['PATH']}", **env}
    script = str(repo / "scripts" / "demo.sh")
    return subprocess.run(["bash", script], capture_output=True, text=True, env=environ, timeout=60, check=False)


@pytest.mark.parametrize("summary_rc", [0, 1, 2])
def test_the_terminal_shows_only_demo_progress_and_the_summary(fake_repo: Path, summary_rc: int) -> None:
    done = _demo(fake_repo, FAKE_SUMMARY_RC=str(summary_rc))
    assert done.returncode == summary_rc, done.stderr
    assert done.stdout.splitlines() == SUMMARY
    progress = done.stderr.splitlines()
    assert progress and all(line.startswith("[demo] ") for line in progress), done.stderr
    log = fake_repo / ".state" / "demo" / "logs" / "demo.log"
    assert str(log) in progress[0] and str(log) in progress[-1]
    assert any("airflow backfill create" in line for line in progress)
    text = log.read_text(encoding="utf-8")
    assert text.count("creating dag run") == 30 and "cannot mask secrets" in text
    assert "noise on stdout from scripts/postgres.sh start" in text and "masking noise from scripts/airflow.sh" in text


def test_a_failing_step_stops_the_demo_with_its_exit_code_and_the_log_tail(fake_repo: Path) -> None:
    done = _demo(fake_repo, FAKE_AIRFLOW_RC="3")
    assert done.returncode == 3
    assert done.stdout == ""  # no summary: the demo stopped at the backfill
    progress = done.stderr.splitlines()
    assert all(line.startswith("[demo] ") for line in progress), done.stderr
    assert any("FAILED (exit 3): airflow backfill create" in line for line in progress)
    assert any("cannot mask secrets" in line for line in progress)  # the tail names the cause
