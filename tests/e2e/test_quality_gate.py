"""A bad partition stops at the staging checks: no asset event, so no transform run.

Runs on the real scheduler, in any order with the other e2e tests: its day, 2018-11-04 (no other
test uses it), is generated into the stack's source (folder or local S3) with five events whose
level is 'premium', and backfilled on sparkify_staging. The staging check staging_events_level_accepted
must fail, `publish` (the only task that emits the assets) must not run, and sparkify_transform
must get no run for that partition. The failure, with its failing rows, is in dq_results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from sparkify.config import REPO_ROOT
from tests.e2e.conftest import server_time

BAD = "2018-11-04"
TERMINAL = {"success", "failed"}


def _write_bad_partition(generator: Any, tmp_path: Path) -> None:
    """Generate the day with the stack's generator settings and poison five events' level."""
    generator.generate(
        tmp_path, dt.date(2018, 11, 4), dt.date(2018, 11, 4), users=40, events_per_day=300, songs=40,
        match_share=0.2, seed=3,
    )
    relative = Path("log_data/2018/11/2018-11-04-events.json")
    text = (tmp_path / relative).read_text(encoding="utf-8")
    assert text.count('"level":"paid"') >= 5
    upload = tmp_path / "upload"  # only the bad day's log; the catalogue stays as the stack has it
    (upload / relative).parent.mkdir(parents=True)
    (upload / relative).write_text(text.replace('"level":"paid"', '"level":"premium"', 5), encoding="utf-8")
    source = os.environ["SPARKIFY_SOURCE"]
    if source.startswith("s3://"):
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "s3_upload.py"), str(upload), source],
                       check=True, timeout=120)
    else:
        shutil.copytree(upload, source, dirs_exist_ok=True)


def _bad_run(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in runs if r["partition_key"] == BAD and r["run_type"] == "backfill"]


def test_bad_partition_stops_at_staging_checks_and_triggers_no_transform(stack, generator, tmp_path) -> None:
    _write_bad_partition(generator, tmp_path)
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    stack.create_backfill("sparkify_staging", BAD, BAD)

    runs = stack.wait_for_runs(
        "sparkify_staging", lambda runs: len(_bad_run(runs)) == 1 and _bad_run(runs)[0]["state"] in TERMINAL
    )
    (run,) = _bad_run(runs)
    assert run["state"] == "failed", run

    tis = stack.api.api(
        "GET", f"/api/v2/dags/sparkify_staging/dagRuns/{quote(run['dag_run_id'], safe='')}/taskInstances?limit=100"
    )["task_instances"]
    checks = {ti["rendered_map_index"]: ti["state"] for ti in tis if ti["task_id"] == "check"}
    assert checks["staging_events_level_accepted"] == "failed", checks
    assert {state for name, state in checks.items() if name != "staging_events_level_accepted"} == {"success"}
    states = {ti["task_id"]: ti["state"] for ti in tis if ti["task_id"] != "check"}
    assert states["stage_events"] == "success"
    assert states["publish"] == "upstream_failed", states

    # No asset event for the partition, hence no transform run, even after the scheduler has
    # evaluated the assets in a whole pass that began after the run had ended.
    stack.wait_for_scheduler_pass(after=server_time(run["end_date"]))
    events = stack.api.api("GET", "/api/v2/assets/events?source_dag_id=sparkify_staging&limit=100")["asset_events"]
    assert [e for e in events if e["partition_key"] == BAD] == []
    transform = stack.api.list_dag_runs("sparkify_transform")
    assert [r for r in transform if r["partition_key"] == BAD] == []

    with psycopg.connect(stack.warehouse_url) as conn:
        conn.execute(f'SET search_path TO "{stack.schema}"')
        rows = conn.execute(
            "SELECT check_name, status, observed, sample_rows FROM dq_results"
            " WHERE dag_id = 'sparkify_staging' AND run_id = %s",
            (run["dag_run_id"],),
        ).fetchall()
        transform_results = conn.execute(
            "SELECT COUNT(*) FROM dq_results WHERE dag_id = 'sparkify_transform' AND partition_key = %s", (BAD,)
        ).fetchone()[0]
    by_name = {name: (status, observed, samples) for name, status, observed, samples in rows}
    status, observed, samples = by_name.pop("staging_events_level_accepted")
    assert (status, observed) == ("failed", 5)
    assert [r["level"] for r in json.loads(samples)] == ["premium"] * 5
    assert {s for s, _, _ in by_name.values()} == {"passed"}
    assert transform_results == 0
