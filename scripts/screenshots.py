#!/usr/bin/env python3
"""Capture screenshots of the running demo's Airflow UI with headless Chromium (docs/screenshots/).

    . scripts/env.sh && python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
        [--only health-page.png]

Needs the Debian `chromium` package and a demo stack with finished runs (`make demo`). Drives
Chromium over the DevTools protocol (sparkify_stack.browser): a JWT from POST /auth/token is set
as the `_token` cookie, which is how Airflow 3's UI receives a login from an auth manager, then
each page is opened, the script
waits until the page shows the text that proves it rendered real data (e.g. the dimension names
of the mapped `load_dimension` tasks), and saves a PNG. Exit 1 when a page never shows its text.

Pages: the staging_events asset (its producer/consumer graph and events with extras), the
warehouse_marts asset's events, a transform run's mapped load_dimension and check tasks (named by
table / check through map_index_template), the transform DAG's grid, and the partition health
page (Browse → Partition health, the plugin's view: sparkify.health_app).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

from sparkify_stack import airflow_api
from sparkify_stack.browser import Browser

HERE = Path(__file__).resolve().parent

def asset_id(name: str) -> int:
    assets = airflow_api.api("GET", f"/api/v2/assets?name_pattern={urllib.parse.quote(name)}&limit=50")["assets"]
    return next(a["id"] for a in assets if a["name"] == name)


#: Monaco's fold widget of a collapsed JSON value: the asset events' extras start folded.
UNFOLD = ".codicon-folding-collapsed"


def pages() -> list[tuple[str, str, list[str], int]]:
    """(file name, UI path, texts the page must show, extras to unfold) for every screenshot."""
    from sparkify.config import load_config

    config = load_config()
    runs = [r for r in airflow_api.list_dag_runs("sparkify_transform") if r["state"] == "success"]
    if not runs:
        raise SystemExit("no successful sparkify_transform run: run `make demo` first")
    run = runs[-1]
    run_path = f"/dags/sparkify_transform/runs/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    dims = [d.name for d in config.dimensions]
    checks = [c.name for c in config.transform_checks()][:3]
    return [
        ("asset-staging-events.png", f"/assets/{asset_id('staging_events')}", ["staging_events", "Partition Key"], 1),
        ("asset-warehouse-marts-events.png", f"/assets/{asset_id('warehouse_marts')}", ["Partition Key"], 1),
        ("transform-run-mapped-dimensions.png", f"{run_path}/tasks/load_dimension/mapped", dims, 0),
        ("transform-run-mapped-checks.png", f"{run_path}/tasks/check/mapped", checks, 0),
        ("transform-dag-grid.png", "/dags/sparkify_transform", ["sparkify_transform"], 0),
        ("health-page.png", "/plugin/partition-health", ["Sparkify partition health", "last transform run"], 0),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--only", action="append", metavar="FILE", help="only this screenshot (repeatable)")
    args = parser.parse_args(argv)

    ui = os.environ.get("AIRFLOW__API__BASE_URL") or airflow_api.base_url()
    ui = ui.rstrip("/")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    token = airflow_api.get_token()  # never printed
    todo = [page for page in pages() if not args.only or page[0] in args.only]
    browser = Browser(args.chromium, args.width, args.height)
    failed = 0
    try:
        browser.set_cookie(ui + "/", "_token", token)
        for name, path, expect, unfold in todo:
            ok = browser.open(ui + path, expect)
            if ok and unfold:
                browser.click_all(UNFOLD, unfold)
                time.sleep(1.0)
            browser.screenshot(out / name)
            status = "ok" if ok else f"MISSING {expect} (page text: {browser.text()[:300]!r})"
            print(f"{out / name}: {path} {status}")
            failed += not ok
    finally:
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
