"""The alert e-mails, as pure functions of what happened: one function per situation.

Kept apart from the notifier (sparkify.notifier), which gathers these facts from Airflow's
callback context and sends the result, so every subject, field, link and the redaction are
unit-tested without Airflow, a task or an SMTP server. Every value passes through
:func:`redact` before it is HTML-escaped: error texts are the one place a secret can slip into
a message (a driver echoing its DSN, a password in an exception), and a message leaves the
machine.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

#: Subject prefix, so a mail filter can route the pipeline's alerts.
SUBJECT_PREFIX = "[sparkify]"
#: What replaces a secret in a message.
MASK = "***"
#: An error's first line is cut here: the log (linked) has the rest.
MAX_ERROR_CHARS = 500
#: Credentials inside a URI: scheme://user:password@host -> scheme://user:***@host.
_URI_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):(?P<secret>[^\s@/]+)@")
#: key=value and key: value pairs whose key names a secret (a DSN's password=…, a dumped header).
_SECRET_PAIR = re.compile(
    r"(?P<head>\b[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[\w-]*\b[\"']?\s*[=:]\s*)"
    r"(?P<secret>\"[^\"]*\"|'[^']*'|[^\s,;&)\]}]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RunRef:
    """Which DAG run an alert is about (what every message names)."""

    dag_id: str
    run_id: str
    partition_key: str | None


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """One alert: its subject, HTML body, the X-Sparkify-* headers mail rules can filter on, and the
    link to Airflow (subject + link is the whole message for a chat webhook, docs/operations.md)."""

    event: str
    subject: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    link: str = ""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """text without the given secrets (also URL-encoded) and without URI or key=value credentials.

    ``secrets`` are the passwords of the pipeline's connections (the notifier looks them up);
    the patterns catch the common shapes of credentials the pipeline was not told about.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, MASK)
    text = _URI_CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _SECRET_PAIR.sub(lambda m: f"{m['head']}{MASK}", text)


def first_line(error: BaseException | str | None) -> str:
    """An error as '<Type>: <first line of its message>', cut to MAX_ERROR_CHARS; '' for None.

    The first line is what says what went wrong; tracebacks and SQL follow it, and the log link
    is one click away.
    """
    if error is None:
        return ""
    if isinstance(error, BaseException):
        lines = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    else:
        lines = str(error).strip().splitlines()
        text = lines[0] if lines else ""
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def run_url(base_url: str, dag_id: str, run_id: str) -> str:
    """The run's page in the Airflow UI (the same shape as a task instance's log_url, without the task)."""
    return f"{base_url.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def task_failed(
    run: RunRef,
    *,
    task_id: str,
    map_name: str | None,
    try_number: int,
    max_tries: int | None,
    error: str,
    log_url: str,
    secrets: Iterable[str] = (),
) -> AlertMessage:
    """A task failed for good: its retries are used up, or it failed in a way retrying cannot fix."""
    task = f"{task_id} [{map_name}]" if map_name else task_id
    tries = f"try {try_number} of {max_tries}" if max_tries else f"try {try_number}"
    return _message(
        "task_failed",
        run,
        secrets,
        subject=f"FAILED {run.dag_id} {_key(run)}: {task} ({tries})",
        title=f"Task failed: {task}",
        summary=f"{task} failed on {tries} for partition {_key(run)} and will not be retried.",
        fields=[("Task", task), ("Try", tries), ("Error", error or "(no message)")],
        link=(log_url, "Open the task log in Airflow"),
        advice=(
            "Downstream tasks of this run did not run. Fix the cause, then clear the task in the Airflow UI, "
            f"or re-run the partition: {_backfill(run)}"
        ),
    )


def partition_skipped(
    run: RunRef, *, task_id: str, reason: str, waited_hours: float | None, log_url: str, secrets: Iterable[str] = ()
) -> AlertMessage:
    """A partition was skipped: its log objects never arrived within source.wait_timeout_hours."""
    waited = _duration(waited_hours * 3600) if waited_hours is not None else "the configured time"
    return _message(
        "partition_skipped",
        run,
        secrets,
        subject=f"SKIPPED {run.dag_id} {_key(run)}: no log file arrived within {waited}",
        title=f"Partition {_key(run)} skipped: its file never arrived",
        summary=(
            f"{task_id} waited {waited} (source.wait_timeout_hours) for partition {_key(run)}'s log objects and "
            "gave up: nothing was staged, and the transform will not run for this day."
        ),
        fields=[("Task", task_id), ("Waited", waited), ("Why", reason or "(no message)")],
        link=(log_url, "Open the sensor's log in Airflow"),
        advice=f"When the file arrives: {_backfill(run)}",
    )


def deadline_missed(
    run: RunRef, *, deadline: dt.datetime, state: str, run_type: str | None, url: str
) -> AlertMessage:
    """A partition's run had not succeeded by its deadline (alerts.deadline)."""
    when = deadline.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _message(
        "deadline_missed",
        run,
        (),
        subject=f"LATE {run.dag_id} {_key(run)}: not done by {when}",
        title=f"Partition {_key(run)} missed its deadline",
        summary=f"{run.dag_id} had not finished partition {_key(run)} successfully by {when} (alerts.deadline).",
        fields=[("Deadline", when), ("Run state", state or "unknown"), ("Run type", run_type or "unknown")],
        link=(url, "Open the run in Airflow"),
        advice="The run may still be waiting, running or retrying: its grid shows which task holds it up.",
    )


def checks_warned(run: RunRef, *, results: Sequence[Mapping[str, Any]], url: str) -> AlertMessage | None:
    """One digest of every check of the run that warned; None when none did."""
    warned = sorted((r for r in results if r.get("status") == "warned"), key=lambda r: str(r.get("name")))
    if not warned:
        return None
    fields = [
        (str(r.get("name")), f"observed {r.get('observed')}; rule {r.get('threshold') or r.get('expected')}")
        for r in warned
    ]
    return _message(
        "check_warned",
        run,
        (),
        subject=f"WARNED {run.dag_id} {_key(run)}: {len(warned)} check(s) warned",
        title=f"{len(warned)} data-quality check(s) warned for {_key(run)}",
        summary=(
            f"The partition was published: warn-severity checks do not block it. {len(warned)} of the run's "
            f"{len(results)} check(s) warned:"
        ),
        fields=fields,
        link=(url, "Open the run in Airflow"),
        advice="Failing rows (first 10) are in dq_results.sample_rows for this run_id.",
    )


def _duration(seconds: float) -> str:
    """6 h, 90 min, 2.5 s: the wait as a person configured it."""
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:.2g} s"


def _key(run: RunRef) -> str:
    return run.partition_key or "(no partition key)"


def _backfill(run: RunRef) -> str:
    """The make target that re-runs this partition of this DAG (docs/operations.md, Backfills)."""
    return f"make backfill DAG={run.dag_id.removeprefix('sparkify_')} START={_key(run)} END={_key(run)}"


def _message(
    event: str,
    run: RunRef,
    secrets: Iterable[str],
    *,
    subject: str,
    title: str,
    summary: str,
    fields: Sequence[tuple[str, str]],
    link: tuple[str, str],
    advice: str,
) -> AlertMessage:
    """The common frame: the run's identity first, then the situation's fields, the link and advice."""
    secrets = tuple(secrets)

    def clean(value: object) -> str:
        return html.escape(redact(str(value), secrets))

    rows = [("DAG", run.dag_id), ("Partition", _key(run)), ("Run", run.run_id), *fields]
    table = "".join(
        f'<tr><th style="text-align:left;padding:4px 12px 4px 0;vertical-align:top">{clean(name)}</th>'
        f'<td style="padding:4px 0;font-family:monospace">{clean(value)}</td></tr>'
        for name, value in rows
    )
    href, label = link
    body = (
        '<html><body style="font-family:sans-serif;font-size:14px;color:#222">'
        f'<h2 style="margin:0 0 8px">{clean(title)}</h2>'
        f"<p>{clean(summary)}</p>"
        f'<table style="border-collapse:collapse">{table}</table>'
        f'<p><a href="{clean(href)}">{clean(label)}</a></p>'
        f'<p style="color:#555">{clean(advice)}</p>'
        "</body></html>"
    )
    headers = {
        "X-Sparkify-Event": event,
        "X-Sparkify-Dag": run.dag_id,
        "X-Sparkify-Run": run.run_id,
        "X-Sparkify-Partition": run.partition_key or "",
    }
    return AlertMessage(event, redact(f"{SUBJECT_PREFIX} {subject}", secrets), body, headers, redact(href, secrets))
