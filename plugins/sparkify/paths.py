"""Where the project's files are, anchored at the repository rather than the process CWD, which
differs between the scheduler, workers, tests and scripts."""

from __future__ import annotations

from pathlib import Path

#: Repository root: plugins/sparkify/paths.py -> parents[2].
REPO_ROOT: Path = Path(__file__).resolve().parents[2]
#: Directory that every ``sql`` path in the config is relative to.
SQL_DIR: Path = REPO_ROOT / "sql"
