"""Where the project's files are: config.json and sql/ live in the project home.

The home is ``$SPARKIFY_HOME`` when set (an Airflow image that ``pip install``-ed the package
copies config.json and sql/ there, next to its DAGs), else the checkout this package sits in
(plugins/sparkify -> the repo), anchored at the files rather than the process CWD, which differs
between the scheduler, workers, tests and scripts.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable naming the project home.
HOME_ENV = "SPARKIFY_HOME"


def project_home() -> Path:
    """$SPARKIFY_HOME, else the checkout: plugins/sparkify/paths.py -> parents[2]."""
    configured = os.environ.get(HOME_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else Path(__file__).resolve().parents[2]


#: Project home (see the module docstring).
REPO_ROOT: Path = project_home()
#: Directory that every ``sql`` path in the config is relative to.
SQL_DIR: Path = REPO_ROOT / "sql"
