#!/usr/bin/env python3
"""The Celery side of the scale-out stack (SPARKIFY_EXECUTOR=celery), for scripts/airflow.sh and
tests/scale_out.

    python -m sparkify_stack.celery_stack wait-workers NAME [NAME ...] [--timeout 120]
    python -m sparkify_stack.celery_stack workers            the Celery nodes answering a ping
    python -m sparkify_stack.celery_stack ensure-log-bucket  the bucket of the remote task logs
    python -m sparkify_stack.celery_stack prepare-home DIR [DIR ...]   a worker's copy of the project

Settings come from the environment scripts/env.sh exports (AIRFLOW__CELERY__BROKER_URL,
AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER, the aws_default connection). The broker URL holds the
Redis password: nothing here prints it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

#: The connection of the remote task logs (env.sh: AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID).
LOG_CONN_ENV = "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID"
LOG_FOLDER_ENV = "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"


def _celery_app() -> Any:
    """Airflow's Celery app, configured from Airflow's [celery] settings (the workers' own)."""
    from airflow.providers.celery.executors.celery_executor import app

    return app


def answering_workers(timeout: float = 1.0) -> list[str]:
    """Node names (``name@host``) of the workers that answer a broadcast ping within timeout."""
    replies = _celery_app().control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def wait_workers(names: list[str], timeout: float = 120.0) -> list[str]:
    """Wait until a worker of every node-name prefix in names (``worker-1`` matches
    ``worker-1@host``) answers; returns the answering nodes, raises TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    nodes: list[str] = []
    while time.monotonic() < deadline:
        nodes = answering_workers()
        if all(any(node.split("@", 1)[0] == name for node in nodes) for name in names):
            return nodes
        time.sleep(0.5)
    raise TimeoutError(f"Celery workers {names} not all answering after {timeout:g} s (answering: {nodes})")


def ensure_log_bucket() -> str:
    """Create the bucket of AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER unless it exists (a local S3
    server starts empty, and a task log upload into a missing bucket fails); returns its name."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    folder = os.environ[LOG_FOLDER_ENV]
    bucket, _ = S3Hook.parse_s3_url(folder)
    hook = S3Hook(aws_conn_id=os.environ.get(LOG_CONN_ENV, "aws_default"))
    if not hook.check_for_bucket(bucket):
        hook.create_bucket(bucket_name=bucket)
    return bucket


def prepare_home(home: Path) -> None:
    """A worker's image in home (replacing what was there): copies of the DAG and plugin folders
    the stack's components use, and of config.json and sql/ as sparkify.config resolves them for
    them (SPARKIFY_CONFIG, SPARKIFY_HOME), without bytecode (what the worker then compiles shows
    it imported its own copy). The worker runs with SPARKIFY_HOME=home."""
    from sparkify.config import load_config

    config = load_config()
    folders = {
        "dags": Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]),
        "plugins": Path(os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"]),
        "sql": config.sql_dir,
    }
    if home.exists():
        shutil.rmtree(home)
    for name, folder in folders.items():
        shutil.copytree(folder, home / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(config.path, home / "config.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wait-workers")
    p.add_argument("names", nargs="+", help="node-name prefixes, e.g. worker-1 worker-2")
    p.add_argument("--timeout", type=float, default=120.0)
    sub.add_parser("workers")
    sub.add_parser("ensure-log-bucket")
    p = sub.add_parser("prepare-home")
    p.add_argument("homes", nargs="+", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "wait-workers":
            print("\n".join(wait_workers(args.names, args.timeout)))
        elif args.cmd == "workers":
            print("\n".join(answering_workers()))
        elif args.cmd == "ensure-log-bucket":
            print(f"log bucket {ensure_log_bucket()} ready")
        elif args.cmd == "prepare-home":
            for home in args.homes:
                prepare_home(home)
    except (TimeoutError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
