"""Integration fixtures: a throwaway schema in the project's real PostgreSQL per test.

The operators run exactly as in Airflow (execute()), reading config.json through
SPARKIFY_CONFIG and the warehouse connection through AIRFLOW_CONN_SPARKIFY_WAREHOUSE;
only the schema differs per test so tests never see each other's rows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from sparkify.config import REPO_ROOT, Config, load_config
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.load_dimension import LoadDimensionOperator
from sparkify.operators.load_fact import LoadFactOperator
from sparkify.operators.load_rollup import LoadRollupOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.operators.stage_songs import StageSongsOperator
from sparkify.project import (
    PUBLISHED_DAYS_TABLE,
    RESULTS_TABLE,
    ROLLUP_MONTHS_TABLE,
    ROLLUP_READS_TABLE,
    all_tables,
)
from sparkify.rollup_tracking import publish_day

pytestmark = pytest.mark.integration
#: Tables whose rows record runs (ids, times), not warehouse content: left out of checksums().
NOT_CONTENT = {RESULTS_TABLE, ROLLUP_MONTHS_TABLE, PUBLISHED_DAYS_TABLE, ROLLUP_READS_TABLE}


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    url = os.environ.get("SPARKIFY_TEST_WAREHOUSE_URL")
    if not url:
        pytest.fail("SPARKIFY_TEST_WAREHOUSE_URL is not set: run the suite with `make test`, which starts Postgres")
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("SELECT 1")
    return url


@dataclass
class Project:
    """One isolated pipeline instance: its config file, schema and a way to run partitions."""

    config_path: Path
    schema: str
    url: str

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def stage(self, partition_key: str) -> dict:
        """Like the staging DAG: no setup task, the staging operators ensure the tables themselves."""
        songs = StageSongsOperator(task_id="stage_songs", config_path=str(self.config_path)).execute({})
        events = StageEventsOperator(
            task_id="stage_events", partition_key=partition_key, config_path=str(self.config_path)
        ).execute({})
        return {"events": events, "songs": songs}

    def transform(self, partition_key: str, run_checks: bool = True) -> None:
        path = str(self.config_path)
        config = self.config
        LoadFactOperator(task_id="load_fact", partition_key=partition_key, config_path=path).execute({})
        for kwargs in config.dimension_kwargs():
            LoadDimensionOperator(task_id="dim", partition_key=partition_key, config_path=path, **kwargs).execute({})
        publish_day(config, partition_key, uuid.uuid4().hex)  # as the DAG's publish task does
        if run_checks:
            # Every check but the rollups' (staging checks too: a day's checks all at once).
            rollup_checks = set(config.rollup_checks())
            for kwargs in config.check_kwargs(c for c in config.checks if c not in rollup_checks):
                DataQualityCheckOperator(
                    task_id="check", partition_key=partition_key, config_path=path, **kwargs
                ).execute({})

    def rollup(self, month: str, run_checks: bool = True) -> list[int]:
        """Like one sparkify_rollups run for month (YYYY-MM): every rollup, then the rollup checks."""
        path = str(self.config_path)
        config = self.config
        rows = [
            LoadRollupOperator(task_id="load_rollup", partition_key=month, config_path=path, **kwargs).execute({})
            for kwargs in config.rollup_kwargs()
        ]
        if run_checks:
            self.check_rollups(month)
        return rows

    def check_rollups(self, month: str) -> None:
        """The checks on rollup tables for month, as the rollup DAG maps them."""
        path = str(self.config_path)
        for kwargs in self.config.check_kwargs(self.config.rollup_checks()):
            DataQualityCheckOperator(task_id="check", partition_key=month, config_path=path, **kwargs).execute({})

    def run(self, partition_keys: list[str], concurrency: int = 1) -> None:
        """Stage then transform each partition (like one staging run + its triggered transform run)."""

        def one(key: str) -> None:
            self.stage(key)
            self.transform(key)

        if concurrency == 1:
            for key in partition_keys:
                one(key)
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(one, partition_keys))

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            conn.execute(f'SET search_path TO "{self.schema}"')
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple = ()):
        return self.query(sql, params)[0][0]

    def checksums(self) -> dict[str, str]:
        """md5 over every row of every pipeline table, independent of physical row order.

        dq_results is left out: it is an append-only audit log (each run adds rows with its
        own timestamps and durations), not warehouse content covered by the idempotency contract.
        So is the rollup bookkeeping (run ids and start times: which run published or read what).
        """
        return {
            table: self.scalar(
                f"SELECT md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{table}\" t"
            )
            for table in all_tables(self.config)
            if table not in NOT_CONTENT
        }


@pytest.fixture
def make_project(warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Factory: make_project(source_dir) -> Project with its own schema, dropped afterwards."""
    parts = urlsplit(warehouse_url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPARKIFY_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": parts.hostname,
                "port": parts.port,
                "login": parts.username,
                "password": parts.password,
                "schema": parts.path.lstrip("/"),
            }
        ),
    )
    created: list[str] = []

    def factory(source: Path) -> Project:
        schema = f"it_{uuid.uuid4().hex[:10]}"
        document = json.loads((REPO_ROOT / "config.json").read_text())
        document["warehouse"]["schema"] = schema
        document["source"]["uri"] = str(source)
        path = tmp_path / f"config-{schema}.json"
        path.write_text(json.dumps(document))
        created.append(schema)
        return Project(path, schema, warehouse_url)

    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    yield factory
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for schema in created:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def days(start: int, end: int, month: str = "2018-11") -> list[str]:
    """Partition keys month-start..month-end (inclusive), e.g. days(1, 3)."""
    return [f"{month}-{d:02d}" for d in range(start, end + 1)]


def s3_uploader() -> ModuleType:
    """scripts/s3_upload.py as a module (the uploader the demo and the e2e stack use)."""
    spec = importlib.util.spec_from_file_location("s3_upload", REPO_ROOT / "scripts" / "s3_upload.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def s3_client() -> Any:
    """boto3 client of the local server, through the same aws_default connection the pipeline uses."""
    endpoint = os.environ.get("SPARKIFY_S3_ENDPOINT")
    if not endpoint or not os.environ.get("AIRFLOW_CONN_AWS_DEFAULT"):
        pytest.fail("SPARKIFY_S3_ENDPOINT / AIRFLOW_CONN_AWS_DEFAULT not set: run the suite with `make test`")
    port = int(endpoint.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        pytest.fail(f"no S3 server at {endpoint}: scripts/test.sh starts it (scripts/s3.sh start)")
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id="aws_default").get_conn()


@pytest.fixture(scope="module")
def bucket(s3_client: Any) -> Iterator[str]:
    name = f"it-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=name, Key=item["Key"])
    s3_client.delete_bucket(Bucket=name)
