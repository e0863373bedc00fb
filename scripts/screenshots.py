#!/usr/bin/env python3
"""Capture screenshots of the running demo's Airflow UI with headless Chromium (docs/screenshots/).

    . scripts/env.sh && python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Needs the Debian `chromium` package and a demo stack with finished runs (`make demo`). Drives
Chromium over the DevTools protocol (the `websockets` package Airflow already depends on; no
browser-automation dependency): a JWT from POST /auth/token is set as the `_token` cookie, which
is how Airflow 3's UI receives a login from an auth manager, then each page is opened, the script
waits until the page shows the text that proves it rendered real data (e.g. the dimension names
of the mapped `load_dimension` tasks), and saves a PNG. Exit 1 when a page never shows its text.

Pages: the staging_events asset (its producer/consumer graph and events with extras), the
warehouse_marts asset's events, a transform run's mapped load_dimension and check tasks (named by
table / check through map_index_template), and the transform DAG's grid.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from sparkify_stack import airflow_api

HERE = Path(__file__).resolve().parent

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]


class Browser:
    """One headless Chromium and one page, spoken to over the DevTools protocol."""

    def __init__(self, chromium: str, width: int, height: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="sparkify-chromium-")
        self.proc = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError(f"chromium did not start ({chromium})")
            time.sleep(0.2)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=64 * 1024 * 1024, legacy=True)
        self.ids = itertools.count(1)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            self.call(method, session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def set_cookie(self, url: str, name: str, value: str) -> None:
        self.call("Network.setCookie", session=True, url=url, name=name, value=value, path="/", httpOnly=True)

    def open(self, url: str, expect: list[str], timeout: float = 60) -> bool:
        """Navigate and wait until the page's text contains every string in expect."""
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        script = "(() => { const t = document.body ? document.body.innerText : ''; "
        script += f"return {json.dumps(expect)}.every(s => t.includes(s)); }})()"
        while time.monotonic() < deadline:
            result = self.call("Runtime.evaluate", session=True, expression=script, returnByValue=True)
            if result.get("result", {}).get("value") is True:
                time.sleep(1.5)  # let charts and the graph layout settle
                return True
            time.sleep(0.5)
        return False

    def click_all(self, selector: str, limit: int) -> int:
        """Real mouse clicks (Monaco ignores element.click()) on the first `limit` matches; returns how many."""
        expression = (
            f"[...document.querySelectorAll({json.dumps(selector)})].slice(0, {limit}).map(e => {{"
            " e.scrollIntoView({block: 'nearest'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })"
        )
        deadline = time.monotonic() + 15  # the JSON editors mount a moment after the list renders
        while True:
            found = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
            points = found.get("result", {}).get("value") or []
            if points or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        clicked = 0
        for x, y in points:
            for kind in ("mousePressed", "mouseReleased"):
                self.call("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y, button="left", clickCount=1)
            clicked += 1
            time.sleep(0.3)
        return clicked

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def text(self) -> str:
        result = self.call("Runtime.evaluate", session=True, expression="document.body.innerText", returnByValue=True)
        return str(result.get("result", {}).get("value", ""))[:2000]

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: S110 - closing a dead socket is fine
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


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
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)

    ui = os.environ.get("AIRFLOW__API__BASE_URL") or airflow_api.base_url()
    ui = ui.rstrip("/")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    token = airflow_api.get_token()  # never printed
    todo = pages()
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
