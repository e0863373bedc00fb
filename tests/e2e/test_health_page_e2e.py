"""The partition health page (issue 16 item 2) on the real API server: JSON over HTTP, auth, the UI in Chromium.

The session's days (KEYS, staged and transformed by the staged_keys fixture) are compared with
the warehouse and with `make status`; FAILED_DAY gets a manual sparkify_transform run, which
fails at once (nothing staged: no other test uses that day), and KEYS[1] a warned result of a
probe check written into dq_results (removed afterwards, so no other test sees it). Then the page
must count what the warehouse holds, mark the failed day and the warned one, refuse requests
without a valid login, and render its grid inside the Airflow UI in headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify_stack.browser import Browser
from tests.e2e.conftest import KEYS, TERMINAL, Stack

FAILED_DAY = "2018-12-23"
WARNED_DAY = KEYS[1]
PROBE_CHECK = "health_page_probe"
PAGE, DATA = "/sparkify/health", "/sparkify/health.json"
#: The UI's route of the plugin's external view (sparkify.health_app.EXTERNAL_VIEW).
UI_VIEW = "/plugin/partition-health"


def get(path: str, token: str | None) -> tuple[int, str]:
    """GET path on the API server with (or without) a bearer token: status and body, errors included."""
    from sparkify_stack import airflow_api

    request = urllib.request.Request(airflow_api.base_url() + path)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@pytest.fixture(scope="module")
def failed_run(stack: Stack) -> dict[str, Any]:
    """FAILED_DAY's manual transform run, finished (failed: nothing is staged for that day)."""
    stack.api.unpause("sparkify_transform")  # a paused DAG's manual run stays queued
    before = stack.run_ids("sparkify_transform")
    run_id = stack.api.trigger_partition("sparkify_transform", FAILED_DAY)["dag_run_id"]
    runs = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: any(r["dag_run_id"] == run_id and r["state"] in TERMINAL for r in stack.new_runs(runs, before)),
        timeout=300,
    )
    (failed,) = [r for r in runs if r["dag_run_id"] == run_id]
    return failed


@pytest.fixture
def health(stack: Stack, failed_run: dict[str, Any], staged_keys: list[str]) -> Iterator[dict[str, Any]]:
    """The session's days staged, the failed run done and the probe's warned result in dq_results
    (removed after the test); yields the failed run."""
    probe = {
        "checked_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "dag_id": "sparkify_transform",
        "run_id": "health_page_e2e", "partition_key": WARNED_DAY, "check_name": PROBE_CHECK,
        "check_type": "row_count", "table_name": "songplays", "scope": "partition", "severity": "warn",
        "status": "warned", "threshold": "probe", "duration_seconds": 0.0,
    }  # fmt: skip
    columns, values = ", ".join(probe), ", ".join(f"%({name})s" for name in probe)
    with psycopg.connect(stack.warehouse_url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{stack.schema}"')
        conn.execute(f"INSERT INTO dq_results ({columns}) VALUES ({values})", probe)
    try:
        yield failed_run
    finally:
        with psycopg.connect(stack.warehouse_url, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{stack.schema}"')
            conn.execute("DELETE FROM dq_results WHERE check_name = %s", (PROBE_CHECK,))


def test_the_json_counts_what_the_warehouse_holds_as_make_status_does(stack: Stack, health: dict[str, Any]) -> None:
    status, body = get(f"{DATA}?start={KEYS[0]}&end={KEYS[-1]}", stack.api.get_token())
    assert status == 200, body
    data = json.loads(body)
    days = {day["partition_key"]: day for day in data["days"]}
    assert sorted(days) == KEYS  # the range holds exactly the session's days
    newest = {r["partition_key"]: r for r in stack.api.list_dag_runs("sparkify_transform")}
    cli = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "status.py"), "--start", KEYS[0], "--end", KEYS[-1]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert cli.returncode in (0, 1), cli.stderr
    cli_rows = {line.split()[0]: line.split() for line in cli.stdout.splitlines() if line[:4].isdigit()}
    for key in KEYS:
        day = days[key]
        staged = stack.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (key,))
        fact = stack.scalar("SELECT COUNT(*) FROM songplays WHERE partition_key = %s", (key,))
        rejected = stack.scalar("SELECT COUNT(*) FROM rejected_lines WHERE partition_key = %s", (key,))
        assert staged > 0 and fact > 0
        assert (day["staged"], day["fact_rows"], day["rejected"]) == (staged, fact, rejected), day
        assert [int(n) for n in cli_rows[key][1:4]] == [staged, rejected, fact], cli.stdout  # one implementation
        run = newest[key]
        assert day["transform_run"]["run_id"] == run["dag_run_id"] and day["transform_run"]["state"] == run["state"]
        page = f"/dags/sparkify_transform/runs/{quote(run['dag_run_id'], safe='')}"
        assert day["transform_run"]["url"].endswith(page)
    # A month range is its days: the same partitions, and November's rollup status.
    status, body = get(f"{DATA}?start=2018-11&end=2018-11", stack.api.get_token())
    by_month = json.loads(body)
    assert status == 200 and set(KEYS) <= {day["partition_key"] for day in by_month["days"]}
    assert [m["month"] for m in by_month["months"]] == ["2018-11"]
    assert get(f"{DATA}?start=2018-13", stack.api.get_token())[0] == 400


@pytest.mark.parametrize("path", [PAGE, DATA])
def test_without_a_valid_login_the_page_is_refused(stack: Stack, health: dict[str, Any], path: str) -> None:
    status, body = get(path, None)
    assert status == 401, body
    status, body = get(path, "not-a-jwt")
    assert status == 403, body
    assert KEYS[0] not in body and FAILED_DAY not in body
    status, body = get(path, stack.api.get_token())
    assert status == 200 and FAILED_DAY in body  # the same request with a login is served


def test_a_failed_and_a_warned_partition_are_marked(stack: Stack, health: dict[str, Any]) -> None:
    assert health["state"] == "failed", health
    status, body = get(f"{DATA}?start=2018-11-01&end=2018-12-31", stack.api.get_token())
    days = {day["partition_key"]: day for day in json.loads(body)["days"]}
    failed = days[FAILED_DAY]
    assert failed["status"] == "failed" and failed["staged"] == 0, failed
    assert (failed["transform_run"]["run_id"], failed["transform_run"]["state"]) == (health["dag_run_id"], "failed")
    warned = days[WARNED_DAY]
    assert warned["status"] == "warned" and PROBE_CHECK in warned["checks_warned"], warned
    assert warned["checks_failed"] == []
    status, html = get(f"{PAGE}?start=2018-11-01&end=2018-12-31", stack.api.get_token())
    assert status == 200
    (row,) = [part for part in html.split("<tr") if f'data-partition="{FAILED_DAY}"' in part]
    assert 'class="failed"' in row and ">FAILED<" in row


def test_chromium_renders_the_grid_in_the_ui_and_shows_the_failed_mark(stack: Stack, health: dict[str, Any]) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Debian's chromium is missing (apt-get install chromium; .ci/run does)"
    ui = stack.api.base_url()
    frame = "document.querySelector('iframe') && document.querySelector('iframe').contentDocument"
    marks = (
        f"(() => {{ const d = {frame}; if (!d || !d.querySelector('#days tbody tr')) return null;"
        " return [...d.querySelectorAll('#days tbody tr')].map(r => [r.dataset.partition, r.className,"
        " r.querySelector('td.status').innerText, (r.querySelector('a[target=_top]') || {}).href || '']); })()"
    )
    with Browser(chromium, 1440, 900) as browser:
        browser.set_cookie(ui + "/", "_token", stack.api.get_token())
        assert browser.open(ui + UI_VIEW, ["Sparkify partition health", FAILED_DAY]), browser.text()
        rows = {key: (css, text, href) for key, css, text, href in browser.wait_for(marks, timeout=30)}
        browser.screenshot(Path(os.environ["SPARKIFY_LOGS"]) / "health-page.png")  # kept for a failed run
    assert set(KEYS) | {FAILED_DAY} <= set(rows), rows
    assert rows[FAILED_DAY][:2] == ("failed", "FAILED")
    assert rows[WARNED_DAY][:2] == ("warned", "WARNED")
    assert rows[KEYS[0]][1] in ("OK", "WARNED")  # other tests may leave a real warned check on it
    assert "/dags/sparkify_staging/runs/" in rows[KEYS[0]][2]
