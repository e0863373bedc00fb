"""The partition health page's content from a report (no server): the grid, the marks, the links, the JSON."""

from __future__ import annotations

import asyncio
from typing import Any

from sparkify.dag_ids import ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG
from sparkify.health_app import EXTERNAL_VIEW, FASTAPI_APP, JSON_PATH, PAGE_PATH, URL_PREFIX, LazyApp
from sparkify.health_page import report_html, report_json
from sparkify.partition_status import counts_by_key
from sparkify.partitions import days_of
from sparkify.status_report import StatusReport, build_report
from tests.conftest import load_script


def run(key: str, state: str, run_type: str = "asset_triggered", run_id: str | None = None) -> dict[str, Any]:
    return {"partition_key": key, "state": state, "run_type": run_type, "dag_run_id": run_id or f"{run_type}__{key}"}


def sample() -> StatusReport:
    """Three days (healthy, warned, failed with nothing staged) and November's rollup done."""
    counts = counts_by_key(
        staged=[("2018-11-05", 300), ("2018-11-06", 310)],
        rejected=[("2018-11-06", 2)],
        fact=[("2018-11-05", 232), ("2018-11-06", 240)],
        checks=[("2018-11-06", "songplays_fresh", "warned"), ("2018-11", "rollup_<rows>", "warned")],
    )
    staging = [run(d, "success", "backfill") for d in ("2018-11-05", "2018-11-06")]
    transform = [run(d, "success") for d in days_of("2018-11")]
    transform.append(run("2018-12-24", "failed", "manual", "manual__2026-12-06T19:01:18+00:00"))
    rollups = [run("2018-11", "success")]
    return build_report(counts, {STAGING_DAG: staging, TRANSFORM_DAG: transform, ROLLUP_DAG: rollups})


def test_the_json_has_each_days_counts_checks_and_linked_runs() -> None:
    data = report_json(sample(), "/")
    days = {day["partition_key"]: day for day in data["days"]}
    assert days["2018-11-06"] == {
        "partition_key": "2018-11-06",
        "status": "warned",
        "staged": 310,
        "rejected": 2,
        "fact_rows": 240,
        "checks_failed": [],
        "checks_warned": ["songplays_fresh"],
        "staging_run": {
            "dag_id": STAGING_DAG,
            "run_id": "backfill__2018-11-06",
            "state": "success",
            "run_type": "backfill",
            "url": "/dags/sparkify_staging/runs/backfill__2018-11-06",
        },
        "transform_run": {
            "dag_id": TRANSFORM_DAG,
            "run_id": "asset_triggered__2018-11-06",
            "state": "success",
            "run_type": "asset_triggered",
            "url": "/dags/sparkify_transform/runs/asset_triggered__2018-11-06",
        },
    }
    failed = days["2018-12-24"]
    assert failed["status"] == "failed" and failed["staged"] == 0 and failed["staging_run"] is None
    assert failed["transform_run"]["url"] == "/dags/sparkify_transform/runs/manual__2026-12-06T19%3A01%3A18%2B00%3A00"
    assert data["summary"] == {"days": 31, "failed_days": 1, "months": 2, "failed_months": 0}
    (november,) = [m for m in data["months"] if m["month"] == "2018-11"]
    assert november["rollup"] == "success (asset_triggered)" and november["waiting_for"] == []
    assert november["rollup_run"]["url"] == "/dags/sparkify_rollups/runs/asset_triggered__2018-11"


def test_run_links_start_with_the_uis_path_behind_a_proxy() -> None:
    data = report_json(sample(), "/airflow/")
    assert data["days"][0]["transform_run"]["url"].startswith("/airflow/dags/sparkify_transform/runs/")


def test_a_failed_partition_is_marked_by_class_and_text_and_its_run_opens_in_the_whole_ui() -> None:
    html = report_html(sample(), "/")
    (failed_row,) = [part for part in html.split("<tr") if 'data-partition="2018-12-24"' in part]
    assert 'class="failed"' in failed_row and '<td class="status">FAILED</td>' in failed_row
    href = 'href="/dags/sparkify_transform/runs/manual__2026-12-06T19%3A01%3A18%2B00%3A00" target="_top"'
    assert href in failed_row and "failed (manual)" in failed_row
    (warned_row,) = [part for part in html.split("<tr") if 'data-partition="2018-11-06"' in part]
    assert 'class="warned"' in warned_row and ">WARNED<" in warned_row and "songplays_fresh" in warned_row
    (ok_row,) = [part for part in html.split("<tr") if 'data-partition="2018-11-05"' in part]
    assert 'class="ok"' in ok_row and ">300<" in ok_row and ">232<" in ok_row
    assert "31 partition(s), <b>1 failed</b>" in html


def test_names_from_the_warehouse_are_escaped() -> None:
    html = report_html(sample(), "/")
    assert "rollup_&lt;rows&gt;" in html and "rollup_<rows>" not in html


def test_the_range_is_kept_in_the_form_and_the_json_link() -> None:
    report = build_report({}, None, "2018-11-01", "2018-11-30")
    html = report_html(report, "/")
    assert 'name="start" value="2018-11-01"' in html and 'name="end" value="2018-11-30"' in html
    assert 'href="health.json?start=2018-11-01&amp;end=2018-11-30"' in html
    assert "runs could not be read" in html


def test_the_plugin_registers_the_page_under_its_own_prefix_and_in_the_browse_menu() -> None:
    plugin = load_script("sparkify_plugin", folder="plugins").SparkifyPlugin
    assert plugin.fastapi_apps == [FASTAPI_APP] and plugin.external_views == [EXTERNAL_VIEW]
    assert FASTAPI_APP["url_prefix"] == URL_PREFIX == "/sparkify"
    assert EXTERNAL_VIEW["href"] == "sparkify" + PAGE_PATH and not EXTERNAL_VIEW["href"].startswith("/")
    assert JSON_PATH == "/health.json" and EXTERNAL_VIEW["category"] == "browse"


def test_the_lazy_app_builds_the_real_one_once_on_its_first_request() -> None:
    built: list[int] = []
    calls: list[str] = []

    async def inner(scope: dict, receive: Any, send: Any) -> None:
        calls.append(scope["path"])

    def build() -> Any:
        built.append(1)
        return inner

    app = LazyApp(build)
    assert built == []
    for path in ("/health", "/health.json"):
        asyncio.run(app({"path": path}, None, None))
    assert built == [1] and calls == ["/health", "/health.json"]
