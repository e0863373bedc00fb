"""make clean (scripts/clean.sh) removes exactly what this checkout's stacks own, and refuses while one runs.

The real script and the real stack scripts run from a copy in a temporary folder (the script
finds its stacks under its own checkout's .state/), so nothing of the working tree is at stake.
Each state dir's PostgreSQL root is where scripts/env.sh derives it, /var/tmp/sparkify-<hash>,
created here with a fake cluster; decoys next to them must survive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = ("clean.sh", "env.sh", "postgres.sh", "airflow.sh", "s3.sh")


def pg_root(state: Path) -> Path:
    """Where scripts/env.sh puts a state dir's PostgreSQL data: /var/tmp/sparkify-<sha1(path)[:10]>."""
    return Path("/var/tmp") / f"sparkify-{hashlib.sha1(str(state).encode()).hexdigest()[:10]}"


def fake_cluster(root: Path) -> None:
    (root / "pgdata").mkdir(parents=True)
    (root / "pgdata" / "PG_VERSION").write_text("15\n")


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """A checkout with the real scripts, a demo and a test stack on disk (nothing running)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in SCRIPTS:
        shutil.copy2(REPO / "scripts" / name, repo / "scripts" / name)
    roots = []
    for stack in ("demo", "test"):
        state = repo / ".state" / stack
        for sub in ("logs", "secrets", "data/log_data", "airflow", "pids"):
            (state / sub).mkdir(parents=True)
        (state / "data" / "log_data" / "2018-11-01-events.json").write_text("{}\n")
        roots.append(pg_root(state))
        fake_cluster(roots[-1])
    yield repo
    for root in [*roots, pg_root(repo / ".state" / "gone")]:
        shutil.rmtree(root, ignore_errors=True)


def clean(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "AIRFLOW"))} | env
    script = str(repo / "scripts" / "clean.sh")
    return subprocess.run(["bash", script], capture_output=True, text=True, env=environ, timeout=120, check=False)


def test_clean_removes_the_state_dirs_and_their_postgres_roots_and_nothing_else(checkout: Path, tmp_path: Path) -> None:
    state = checkout / ".state"
    # Decoys: a root derived from a state dir that does not exist, a root chosen by hand, a folder
    # a symlink in .state points to, a file of the checkout.
    unowned_root = pg_root(state / "gone")
    fake_cluster(unowned_root)
    chosen_root = tmp_path / "chosen-pg-root"
    fake_cluster(chosen_root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (state / "linked").symlink_to(outside, target_is_directory=True)
    (checkout / "keep.txt").write_text("keep")

    owned = [state / "demo", state / "test", pg_root(state / "demo"), pg_root(state / "test")]
    done = clean(checkout, SPARKIFY_PG_ROOT=str(chosen_root))

    assert done.returncode == 0, done.stderr
    assert [path for path in owned if path.exists()] == []
    assert unowned_root.is_dir() and (chosen_root / "pgdata" / "PG_VERSION").is_file()
    assert (outside / "keep.txt").read_text() == "keep" and (checkout / "keep.txt").is_file()
    assert (state / "linked").is_symlink()  # a symlink is not a stack: left in place, .state stays
    assert all(line.startswith("[clean] ") for line in done.stderr.splitlines()), done.stderr
    assert f"removed {pg_root(state / 'demo')}" in done.stderr


def test_clean_refuses_while_a_service_still_runs(checkout: Path) -> None:
    """A PostgreSQL that does not stop (a fake pg_ctl that always reports it running): nothing goes."""
    bin_dir = Path(tempfile.mkdtemp(prefix="sparkify-fake-pg-bin-", dir="/var/tmp"))
    try:
        bin_dir.chmod(0o755)  # as root, postgres.sh runs pg_ctl as the postgres OS user
        pg_ctl = bin_dir / "pg_ctl"
        pg_ctl.write_text("#!/bin/sh\nexit 0\n")  # status: running; stop: 'stopped', but it is not
        pg_ctl.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        demo_root = pg_root(checkout / ".state" / "demo")
        (demo_root / "pgdata" / "postmaster.pid").write_text("1\n")
        done = clean(checkout, SPARKIFY_PG_BIN=str(bin_dir))
    finally:
        shutil.rmtree(bin_dir)

    assert done.returncode == 1
    assert "refusing to delete anything" in done.stderr and "postgres running" in done.stderr, done.stderr
    assert (checkout / ".state" / "demo" / "data" / "log_data").is_dir() and (checkout / ".state" / "test").is_dir()
    assert (demo_root / "pgdata" / "PG_VERSION").is_file()


def test_clean_with_nothing_on_disk_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in SCRIPTS:
        shutil.copy2(REPO / "scripts" / name, repo / "scripts" / name)
    done = clean(repo)
    assert done.returncode == 0 and "nothing to clean" in done.stderr
