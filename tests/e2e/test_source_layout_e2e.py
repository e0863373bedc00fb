"""A Hive-style source layout through the real scheduler: sensor, staging and the asset-triggered transform.

The stack runs the default (Udacity) layout for the other e2e tests. This test generates its two
days, 2018-11-07 and 2018-11-08 (no other test uses them), into the stack's source in the
Hive-style layout only, switches the stack's config.json to that layout (tasks read the file on
every run, so no restart is needed) and backfills them on sparkify_staging: both staging runs and
the two transform runs they trigger succeed, the staged rows come from the Hive-style keys, and
the counts are the generator's. The config and the source are restored afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sparkify.config import REPO_ROOT
from tests.e2e.conftest import TERMINAL, Stack

DAYS = ["2018-11-07", "2018-11-08"]
HIVE = "log_data/year={{ year }}/month={{ month }}/day={{ day }}/"
HIVE_KEYS = [f"log_data/year=2018/month=11/day={day[-2:]}/events.json" for day in DAYS]


def _remove_from_source(source: str, keys: list[str]) -> None:
    """Delete the test's objects from the stack's source (an s3:// URI or a folder)."""
    if not source.startswith("s3://"):
        for key in keys:
            (Path(source) / key).unlink(missing_ok=True)
        return
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, root = source.removeprefix("s3://").partition("/")
    client = S3Hook(aws_conn_id="aws_default").get_conn()
    for key in keys:
        client.delete_object(Bucket=bucket, Key=f"{root}/{key}" if root else key)


@pytest.fixture
def hive_days(stack: Stack, generator: ModuleType, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """DAYS in the Hive-style layout in the stack's source, and the stack's config on that layout."""
    config_path = Path(os.environ["SPARKIFY_CONFIG"])
    source = os.environ["SPARKIFY_SOURCE"]
    original = config_path.read_text(encoding="utf-8")
    counts = generator.generate(
        tmp_path, dt.date.fromisoformat(DAYS[0]), dt.date.fromisoformat(DAYS[-1]), users=40, events_per_day=300,
        songs=40, match_share=0.2, seed=3, events_partition_prefix=HIVE,
    )  # fmt: skip
    shutil.rmtree(tmp_path / "song_data")  # the stack's own catalogue (same seed) stays as it is
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == HIVE_KEYS
    if source.startswith("s3://"):
        upload = [sys.executable, str(REPO_ROOT / "scripts" / "s3_upload.py"), str(tmp_path), source]
        subprocess.run(upload, check=True, timeout=120)
    else:
        shutil.copytree(tmp_path, source, dirs_exist_ok=True)
    document = json.loads(original)
    document["source"]["events_partition_prefix"] = HIVE
    config_path.write_text(json.dumps(document), encoding="utf-8")
    try:
        yield counts
    finally:
        config_path.write_text(original, encoding="utf-8")
        _remove_from_source(source, HIVE_KEYS)


def test_a_hive_layout_backfill_stages_and_transforms(stack: Stack, hive_days: dict[str, Any]) -> None:
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    staging_before = stack.run_ids("sparkify_staging")
    transform_before = stack.run_ids("sparkify_transform")
    stack.create_backfill("sparkify_staging", DAYS[0], DAYS[-1], "--reprocess-behavior", "completed")

    def ours(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in stack.new_runs(runs, staging_before) if r["run_type"] == "backfill"]

    staging = stack.wait_for_runs(
        "sparkify_staging", lambda runs: len(ours(runs)) == 2 and all(r["state"] in TERMINAL for r in ours(runs))
    )
    assert sorted(r["partition_key"] for r in ours(staging)) == DAYS
    assert {r["state"] for r in ours(staging)} == {"success"}, ours(staging)

    def followed(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in stack.new_runs(runs, transform_before) if r["partition_key"] in DAYS]

    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: len(followed(runs)) == 2 and all(r["state"] in TERMINAL for r in followed(runs)),
    )
    assert {r["state"] for r in followed(transform)} == {"success"}, followed(transform)

    keys = stack.scalar(
        "SELECT array_agg(DISTINCT source_key ORDER BY source_key) FROM staging_events WHERE partition_key = ANY(%s)",
        (DAYS,),
    )
    assert keys == HIVE_KEYS
    assert stack.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = ANY(%s)", (DAYS,)) == hive_days[
        "events"
    ]
    assert stack.scalar("SELECT COUNT(*) FROM songplays WHERE partition_key = ANY(%s)", (DAYS,)) == hive_days[
        "nextsong_with_user"
    ]
