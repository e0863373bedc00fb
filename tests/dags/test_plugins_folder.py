"""Airflow's plugin loader imports the project once, under one name (plugins/.airflowignore).

Without the ignore file the loader imported every module of plugins/sparkify/ a second time as
a top-level module (``config``, ``warehouse``, ``parsing``, …).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
print(json.dumps({
    "plugins": [p["name"] for p in plugins_manager.get_plugin_info()],
    "errors": plugins_manager.get_import_errors(),
    "top_level": sorted(m for m in sys.modules if m in TOP_LEVEL),
    "package": sorted(m for m in sys.modules if m.startswith("sparkify.")),
}))
"""


def test_plugin_folder_imports_the_package_once_under_its_name(tmp_path: Path) -> None:
    modules = sorted(p.stem for p in (REPO / "plugins" / "sparkify").rglob("*.py") if p.stem != "__init__")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO / "plugins"),
    }
    code = f"TOP_LEVEL = {set(modules)!r}\n" + SCRIPT
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["plugins"] == ["sparkify"]
    assert found["errors"] == {}
    assert found["top_level"] == []  # no module of the package imported a second time by file name
    assert "sparkify.operators.stage_events" in found["package"] and "sparkify.parsing" in found["package"]
    assert "sparkify.warehouse.postgres" in found["package"]  # pre-imported: tasks do not pay for psycopg
