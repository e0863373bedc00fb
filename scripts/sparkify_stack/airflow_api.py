#!/usr/bin/env python3
"""Small stdlib-only client for the Airflow 3 REST API of the local Sparkify stack.

Used by scripts/demo.sh, scripts/airflow.sh and the e2e tests. Settings come from the
environment that scripts/env.sh exports:

- ``SPARKIFY_AIRFLOW_URL`` (default ``http://127.0.0.1:$AIRFLOW_PORT``)
- ``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE`` (else
  ``$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``), user ``SPARKIFY_ADMIN_USER``
  (default ``admin``).

CLI (for debugging)::

    python scripts/airflow_api.py health
    python scripts/airflow_api.py wait-healthy [--timeout 180] [--since ISO-TIMESTAMP]
    python scripts/airflow_api.py stale --since ISO-TIMESTAMP [--grace 60]
    python scripts/airflow_api.py wait-dag DAG_ID [--timeout 120]
    python scripts/airflow_api.py unpause DAG_ID
    python scripts/airflow_api.py trigger DAG_ID PARTITION_KEY
    python scripts/airflow_api.py runs DAG_ID
    python scripts/airflow_api.py get /api/v2/some/path
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

JSON = dict[str, Any]

_token_cache: dict[str, str] = {}


class AirflowApiError(RuntimeError):
    """An HTTP error from the API, with status and body."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def base_url() -> str:
    url = os.environ.get("SPARKIFY_AIRFLOW_URL")
    if not url:
        url = f"http://127.0.0.1:{os.environ.get('AIRFLOW_PORT', '8080')}"
    return url.rstrip("/")


def admin_user() -> str:
    return os.environ.get("SPARKIFY_ADMIN_USER", "admin")


def passwords_file() -> str:
    configured = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if configured:
        return configured
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return os.path.join(home, "simple_auth_manager_passwords.json.generated")


def admin_password() -> str:
    with open(passwords_file(), encoding="utf-8") as fh:
        return json.load(fh)[admin_user()]


def _request(
    method: str,
    path: str,
    body: JSON | None = None,
    *,
    token: str | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    url = base_url() + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read().decode()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raise AirflowApiError(method, url, exc.code, exc.read().decode(errors="replace")) from None


def get_token(refresh: bool = False) -> str:
    """A JWT for the admin user from POST /auth/token (cached per base URL)."""
    key = base_url()
    if refresh or key not in _token_cache:
        _, resp = _request(
            "POST",
            "/auth/token",
            {"username": admin_user(), "password": admin_password()},
        )
        _token_cache[key] = resp["access_token"]
    return _token_cache[key]


def api(method: str, path: str, body: JSON | None = None, timeout: float = 30.0) -> Any:
    """Authenticated call; retries once with a fresh token on 401 (tokens expire)."""
    try:
        return _request(method, path, body, token=get_token(), timeout=timeout)[1]
    except AirflowApiError as exc:
        if exc.status != 401:
            raise
        return _request(method, path, body, token=get_token(refresh=True), timeout=timeout)[1]


def health() -> JSON:
    """GET /api/v2/monitor/health (no auth needed)."""
    return _request("GET", "/api/v2/monitor/health", timeout=5)[1]


HEARTBEATS = {
    "scheduler": "latest_scheduler_heartbeat",
    "triggerer": "latest_triggerer_heartbeat",
    "dag_processor": "latest_dag_processor_heartbeat",
}


def _beat_since(entry: JSON, component: str, since: dt.datetime | None) -> bool:
    """True when the component's latest heartbeat is at or after since (or since is None)."""
    if since is None or component not in HEARTBEATS:
        return True
    beat = entry.get(HEARTBEATS[component])
    if not beat:
        return False
    return dt.datetime.fromisoformat(beat) >= since


def is_healthy(
    components: tuple[str, ...] = (
        "metadatabase",
        "scheduler",
        "triggerer",
        "dag_processor",
    ),
    since: dt.datetime | None = None,
) -> bool:
    """Every component healthy and, with since, heartbeating after it.

    since matters after an outage of the metadata database: a scheduler that is about to exit
    still reports "healthy" on its last heartbeat for a while; only a beat written after the
    outage proves it survived (or was restarted).
    """
    try:
        status = health()
    except (OSError, AirflowApiError, ValueError):
        return False
    return all(
        (status.get(c) or {}).get("status") == "healthy" and _beat_since(status.get(c) or {}, c, since)
        for c in components
    )


def stale_components(since: dt.datetime, grace: float = 60.0, now: dt.datetime | None = None) -> list[str]:
    """The heartbeating components (scheduler, triggerer, dag-processor, as scripts/airflow.sh names
    them) without a heartbeat since `since`, once `grace` seconds have passed since then.

    After a metadata-DB outage a scheduler can leave its loop and linger as a process for minutes
    before it exits: it looks running, so starting it again does nothing. A live one heartbeats every
    few seconds, so one silent for the whole grace is stopped and started by ``airflow.sh recover``.
    """
    if ((now or dt.datetime.now(dt.UTC)) - since).total_seconds() < grace:
        return []
    status = health()
    return [c.replace("_", "-") for c in HEARTBEATS if not _beat_since(status.get(c) or {}, c, since)]


def wait_healthy(timeout: float = 180.0, interval: float = 1.0, since: dt.datetime | None = None) -> JSON:
    """Wait until the api-server answers and the metadata DB, scheduler, triggerer and
    dag-processor report healthy (heartbeating after since, if given); returns the last health document."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if is_healthy(since=since):
            return health()
        try:
            last = health()
        except (OSError, AirflowApiError, ValueError) as exc:
            last = repr(exc)
        time.sleep(interval)
    raise TimeoutError(f"Airflow not healthy after {timeout:.0f} s; last health: {last}")


def get_dag(dag_id: str) -> JSON:
    return api("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}")


def wait_for_dag(dag_id: str, timeout: float = 120.0, interval: float = 1.0) -> JSON:
    """Wait until the dag-processor has parsed ``dag_id`` (GET /api/v2/dags/{id} is 200)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get_dag(dag_id)
        except AirflowApiError as exc:
            if exc.status != 404:
                raise
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"DAG {dag_id!r} not parsed after {timeout:.0f} s (see import errors: {base_url()}/api/v2/importErrors)"
            )
        time.sleep(interval)


def import_errors() -> list[JSON]:
    return api("GET", "/api/v2/importErrors?limit=100")["import_errors"]


def unpause(dag_id: str) -> JSON:
    return api("PATCH", f"/api/v2/dags/{urllib.parse.quote(dag_id)}", {"is_paused": False})


def pause(dag_id: str) -> JSON:
    return api("PATCH", f"/api/v2/dags/{urllib.parse.quote(dag_id)}", {"is_paused": True})


def trigger_partition(dag_id: str, key: str, conf: JSON | None = None) -> JSON:
    """Create a manual run for one partition. The body must contain ``logical_date`` (null)."""
    body = {"logical_date": None, "partition_key": key, "conf": conf or {}}
    return api("POST", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns", body)


def list_dag_runs(dag_id: str, page_size: int = 100) -> list[JSON]:
    """Every run of ``dag_id`` (pages through /api/v2/dags/{id}/dagRuns), oldest first."""
    runs: list[JSON] = []
    offset = 0
    while True:
        query = urllib.parse.urlencode({"limit": page_size, "offset": offset, "order_by": "id"})
        page = api("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns?{query}")
        batch = page.get("dag_runs", [])
        runs.extend(batch)
        offset += len(batch)
        if not batch or offset >= page.get("total_entries", 0):
            return runs


def _print(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("health")
    sub.add_parser("token")
    p = sub.add_parser("wait-healthy")
    p.add_argument("--timeout", type=float, default=180.0)
    p.add_argument("--since", type=dt.datetime.fromisoformat, default=None,
                   help="ISO timestamp with offset: require heartbeats written after it")
    p = sub.add_parser("stale")
    p.add_argument("--since", type=dt.datetime.fromisoformat, required=True)
    p.add_argument("--grace", type=float, default=60.0)
    p = sub.add_parser("wait-dag")
    p.add_argument("dag_id", nargs="+")
    p.add_argument("--timeout", type=float, default=120.0)
    p = sub.add_parser("unpause")
    p.add_argument("dag_id", nargs="+")
    p = sub.add_parser("trigger")
    p.add_argument("dag_id")
    p.add_argument("partition_key", nargs="+")
    p = sub.add_parser("runs")
    p.add_argument("dag_id")
    sub.add_parser("import-errors")
    p = sub.add_parser("get")
    p.add_argument("path")
    args = parser.parse_args(argv)

    try:
        if args.cmd == "health":
            _print(health())
        elif args.cmd == "token":
            get_token()
            print("token OK")  # never print the token itself
        elif args.cmd == "wait-healthy":
            _print(wait_healthy(args.timeout, since=args.since))
        elif args.cmd == "stale":
            print("\n".join(stale_components(args.since, args.grace)))
        elif args.cmd == "wait-dag":
            for dag_id in args.dag_id:
                wait_for_dag(dag_id, args.timeout)
                print(f"{dag_id}: parsed")
        elif args.cmd == "unpause":
            for dag_id in args.dag_id:
                print(f"{dag_id}: is_paused={unpause(dag_id)['is_paused']}")
        elif args.cmd == "trigger":
            for key in args.partition_key:
                run = trigger_partition(args.dag_id, key)
                print(f"{args.dag_id}: {run['dag_run_id']} partition_key={run.get('partition_key')}")
        elif args.cmd == "runs":
            for run in list_dag_runs(args.dag_id):
                print(f"{run['dag_run_id']}\t{run.get('run_type')}\t{run.get('partition_key')}\t{run['state']}")
        elif args.cmd == "import-errors":
            _print(import_errors())
        elif args.cmd == "get":
            _print(api("GET", args.path))
    except (AirflowApiError, TimeoutError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
