"""plugins/sparkify_plugin.py runs the task SDK's plugin loader in the process that loads it.

Why it matters: every task process is forked from the scheduler (or a Celery worker); what the
parent loaded, the task does not load again. These tests load the plugins folder the way the
scheduler does, in a fresh interpreter, then fork a child as the executor does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = r"""
import json, os, sys
import airflow.plugins_manager as core
core.ensure_plugins_loaded()
import airflow.sdk.plugins_manager as sdk
parent = sdk.integrate_macros_plugins.cache_info().currsize
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    before = sdk.integrate_macros_plugins.cache_info()
    sdk.integrate_macros_plugins()  # what a task process calls before it runs the task
    from airflow.sdk.listener import get_listener_manager
    get_listener_manager()
    after = sdk.integrate_macros_plugins.cache_info()
    os.write(write, json.dumps({"misses": after.misses - before.misses}).encode())
    os._exit(0)
os.waitpid(pid, 0)
os.close(write)
child = json.loads(os.read(read, 1000))
print(json.dumps({"parent_cached": parent, "child": child, "errors": core.get_import_errors(),
                  "plugins": [info["name"] for info in core.get_plugin_info()],
                  "deadline_references": sorted(core.get_deadline_references_plugins())}))
"""


def run_as_scheduler(tmp_path: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SPARKIFY_CONFIG": str(REPO / "config.json"),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_forked_task_process_finds_the_task_sdk_plugins_loaded(tmp_path: Path) -> None:
    result = run_as_scheduler(tmp_path)
    assert result["parent_cached"] == 1  # loaded with Airflow's own plugin load, without recursing
    assert result["child"] == {"misses": 0}  # the task process does not walk the plugins folder again
    # Airflow's own load is intact: one plugin, no import error, its deadline reference registered.
    assert result["errors"] == {}
    assert result["plugins"] == ["sparkify"]
    assert result["deadline_references"] == ["sparkify.deadline.PartitionEndDeadline"]
