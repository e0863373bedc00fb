"""The partition health page: a FastAPI app the plugin mounts in Airflow's API server, shown in the UI.

    GET /sparkify/health        the page (HTML; in the UI: Browse → Partition health)
    GET /sparkify/health.json   the same data as JSON
    ?start=&end=                a range of days or months (2018-11-05, 2018-11), both optional

What it shows is the status report `make status` prints, built by the same code: the warehouse
through the configured connection (sparkify.status_warehouse), the runs from Airflow's metadata
database (sparkify.status_runs: the page runs inside the API server, next to it), the report
(sparkify.status_report), rendered by sparkify.health_page.

Authentication: Airflow mounts a plugin's app with ``app.mount()``, and a mounted app inherits none
of the core API's dependencies, so every route here would be public unless the app requires a
login itself. It does, with the core API's own dependency: ``requires_access_dag(GET, RUN)`` for
each partition DAG, which reads the bearer JWT or the UI's ``_token`` cookie (no credential: 401;
a bad one: 403) and asks the auth manager whether the user may read those DAGs' runs (403 if not).

Why the FastAPI app is built lazily (LazyApp): Airflow loads plugins in every component
(scheduler, dag-processor, triggerer, workers), and only the API server serves them; importing the
API server's security module costs about a second. So the app, and those imports, are made on the
first request. (No ``from __future__ import annotations`` here: FastAPI reads the route
functions' annotations at run time, and those name classes imported inside create_app.)
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from sparkify.dag_ids import PARTITION_DAGS
from sparkify.partition_status import window
from sparkify.status_report import StatusReport, build_report

URL_PREFIX = "/sparkify"
PAGE_PATH = "/health"
JSON_PATH = "/health.json"
#: The UI's entry for the page (AirflowPlugin.external_views): Browse → Partition health, shown in
#: an iframe at /plugin/partition-health. href is relative (no leading slash): the UI resolves it
#: under [api] base_url, so a path prefix (a reverse proxy) keeps working.
EXTERNAL_VIEW = {
    "name": "Partition health",
    "href": URL_PREFIX.lstrip("/") + PAGE_PATH,
    "url_route": "partition-health",
    "destination": "nav",
    "category": "browse",
}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LazyApp:
    """An ASGI app that builds the real one (``build()``) on its first request (see the module docstring)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self.app = self.build()
        await self.app(scope, receive, send)


def ui_root() -> str:
    """The UI's path under its address ([api] base_url), which run links start with ('/' by default)."""
    from airflow.configuration import conf

    return urlsplit(conf.get("api", "base_url", fallback="/")).path or "/"


def read_report(session: Any, start: str | None, end: str | None) -> StatusReport:
    """The report for days start..end (already days): the warehouse's counts and the metadata DB's runs."""
    from sparkify.config import load_config
    from sparkify.status_runs import runs_from_metadata
    from sparkify.status_warehouse import read_counts
    from sparkify.warehouse import warehouse_for

    config = load_config()
    warehouse = warehouse_for(config.warehouse)
    try:
        counts = read_counts(warehouse, config, start, end)
    finally:
        warehouse.close()
    return build_report(counts, runs_from_metadata(session, PARTITION_DAGS), start, end)


def create_app() -> Any:
    """The FastAPI app: the page and its JSON, each behind the core API's authorization for DAG runs."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from airflow.utils.session import create_session
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse, JSONResponse

    from sparkify.health_page import report_html, report_json

    readers = [
        Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.RUN, param_dag_id=dag_id))
        for dag_id in PARTITION_DAGS
    ]
    app = FastAPI(
        title="Sparkify partition health", dependencies=readers, docs_url=None, redoc_url=None, openapi_url=None
    )
    #: The page may be framed by the UI (same origin) only; nothing here may be cached by a proxy.
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": "frame-ancestors 'self'"}

    def report(start: str | None, end: str | None) -> StatusReport:
        try:
            first, last = window(start, end)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        with create_session(scoped=False) as session:
            return read_report(session, first, last)

    @app.get(PAGE_PATH, response_class=HTMLResponse)
    def page(start: str | None = Query(None), end: str | None = Query(None)) -> HTMLResponse:
        html = report_html(report(start, end), ui_root(), json_href=JSON_PATH.lstrip("/"))
        return HTMLResponse(html, headers=headers)

    @app.get(JSON_PATH)
    def data(start: str | None = Query(None), end: str | None = Query(None)) -> JSONResponse:
        return JSONResponse(report_json(report(start, end), ui_root()), headers=headers)

    return app


#: What the plugin registers (AirflowPlugin.fastapi_apps).
FASTAPI_APP = {"app": LazyApp(create_app), "url_prefix": URL_PREFIX, "name": "Sparkify partition health"}
