#!/usr/bin/env python3
"""Render a received alert e-mail (.eml) to PNG with headless Chromium, as a mail client shows it.

    python scripts/alert_screenshot.py EML [--out docs/screenshots/alert-email.png]

The e-mails come from a real run: the e2e session's SMTP server keeps every message the stack
sent as $SPARKIFY_LOGS/alerts/NNN-<event>.eml (tests/e2e/conftest.py), e.g. after
`make test ARGS='tests/e2e/test_alerts_e2e.py'`. The page is the message's own HTML body under
a header block (From, To, Subject, Date), opened from a temporary file in the same Chromium
scripts/screenshots.py drives (Debian `chromium`); the PNG is cropped to the message.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import html
import shutil
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from screenshots import Browser

HERE = Path(__file__).resolve().parent
HEADERS = ("From", "To", "Subject", "Date")


def page(message: EmailMessage) -> str:
    """An HTML page framing the message like a mail client: its headers, then its body as sent."""
    body = message.get_body(preferencelist=("html",))
    content = body.get_content() if body is not None else "<pre>(no HTML part)</pre>"
    rows = "".join(
        f'<tr><th style="text-align:right;padding:2px 10px;color:#666;font-weight:normal">{name}:</th>'
        f"<td>{html.escape(str(message[name] or ''))}</td></tr>"
        for name in HEADERS
    )
    return (
        '<!doctype html><html><body style="margin:0;background:#eef0f3;font-family:sans-serif">'
        '<div id="mail" style="margin:24px;background:#fff;border:1px solid #ccd;border-radius:6px;width:900px">'
        f'<table style="font-size:13px;padding:12px 8px;border-bottom:1px solid #dde;width:100%">{rows}</table>'
        f'<div style="padding:16px 20px">{content}</div></div></body></html>'
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eml", type=Path)
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "screenshots" / "alert-email.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)

    message = email.message_from_bytes(args.eml.read_bytes(), policy=email.policy.default)
    with tempfile.TemporaryDirectory(prefix="sparkify-alert-") as folder:
        source = Path(folder) / "mail.html"
        source.write_text(page(message), encoding="utf-8")  # type: ignore[arg-type]
        browser = Browser(args.chromium, 1000, 800)
        try:
            if not browser.open(source.as_uri(), [str(message["Subject"])], timeout=30):
                print(f"the page never showed the subject; text: {browser.text()[:300]!r}", file=sys.stderr)
                return 1
            box = browser.call(
                "Runtime.evaluate", session=True, returnByValue=True,
                expression="(() => { const r = document.getElementById('mail').getBoundingClientRect();"
                " return {x: 0, y: 0, width: r.right + 24, height: r.bottom + 24}; })()",
            )["result"]["value"]  # fmt: skip
            clip = {**box, "scale": 1}
            shot = browser.call(
                "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True, clip=clip
            )
        finally:
            browser.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(base64.b64decode(shot["data"]))
    print(f"{args.out}: {message['Subject']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
