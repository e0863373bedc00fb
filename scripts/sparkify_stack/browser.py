"""Headless Chromium over the DevTools protocol, logged in to the Airflow UI: screenshots and browser tests.

Shared by scripts/screenshots.py (the docs' screenshots) and the e2e tests that check a page
renders (tests/e2e/test_health_page_e2e.py). Needs Debian's `chromium` (/usr/bin/chromium; .ci/run
installs it). Speaks the protocol with the `websockets` package Airflow already depends on, so no
browser-automation dependency: a JWT from POST /auth/token set as the `_token` cookie is how
Airflow 3's UI receives a login from an auth manager.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

#: JavaScript: the page's text and that of its same-origin iframes.
PAGE_TEXT = (
    "[document, ...[...document.querySelectorAll('iframe')].map(f => f.contentDocument)]"
    ".map(d => (d && d.body) ? d.body.innerText : '').join('\\n')"
)

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
        """Navigate and wait until the page's text contains every string in expect.

        The text includes same-origin iframes' (a plugin's external view renders in one).
        """
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        script = f"(() => {{ const t = {PAGE_TEXT}; return {json.dumps(expect)}.every(s => t.includes(s)); }})()"
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

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll a JavaScript expression until its value is truthy; returns it, or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value or None
            time.sleep(0.5)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def text(self) -> str:
        return str(self.evaluate(PAGE_TEXT) or "")[:2000]

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
