"""Nothing leaks at run time: rendered task fields (REST), task logs and the demo summary hold no
secret of the stack, and the Airflow API refuses requests without a login.
The staged_keys fixture makes sure runs, task logs and rendered templates exist to inspect
(whatever ran before); runs left by other e2e tests are inspected too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sparkify.config import REPO_ROOT
from tests.security_helpers import files_text, leaks, stack_secrets


def test_api_needs_a_login(stack) -> None:
    for path in ("/api/v2/dags", "/api/v2/connections", "/api/v2/dags/sparkify_staging/dagRuns"):
        request = urllib.request.Request(os.environ["SPARKIFY_AIRFLOW_URL"] + path)
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status in (401, 403), (path, status)


def test_no_secret_in_rendered_fields_logs_or_demo_output(stack, staged_keys) -> None:
    secrets = stack_secrets()
    texts: list[tuple[str, str]] = []
    for dag_id in ("sparkify_staging", "sparkify_transform"):
        for run in stack.api.list_dag_runs(dag_id):
            listing = stack.api.api(
                "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances?limit=100"
            )["task_instances"]
            assert listing
            for ti in listing:
                suffix = f"/{ti['map_index']}" if ti["map_index"] >= 0 else ""
                detail = stack.api.api(
                    "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/{ti['task_id']}{suffix}"
                )
                assert "rendered_fields" in detail
                texts.append((f"{dag_id}/{ti['task_id']}{suffix} rendered", json.dumps(detail)))
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    assert any(p.is_file() for p in logs.rglob("*.log")), f"no task logs under {logs}"
    texts += list(files_text([logs]))
    texts += list(files_text([Path(os.environ["SPARKIFY_LOGS"])]))
    summary = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "demo_summary.py"), "--start", "2018-11-01",
         "--end", "2018-11-03", "--timeout", "60"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "2018-11-0" in summary.stdout + summary.stderr
    texts.append(("demo_summary output", summary.stdout + summary.stderr))
    assert leaks(texts, secrets) == []
