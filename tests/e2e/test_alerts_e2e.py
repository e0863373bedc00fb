"""Alert e-mails from the real scheduler, task runner and triggerer: each situation, exactly one message.

The stack runs with config.json's ``alerts`` on (conftest.ALERTS: every event, to the session's
local SMTP server, which requires the connection's login). One setup makes the four situations
happen at once, on days no other test uses, and waits for their runs and their mails:

* task_failed + deadline_missed: a manual sparkify_transform run for FAILED_KEY (two days ago,
  never staged) fails at once in load_fact_songplays; its deadline (the day's end + 6 h) passed
  yesterday, within the lookback, so the run gets a deadline that is missed at once;
* partition_skipped: a staging backfill of SKIPPED_DAY, which has no log file, with
  source.wait_timeout_hours made tiny (tasks read config.json at every run): the first poke
  already outlasts it, and the sensor's soft_fail ends it skipped;
* check_warned: a manual staging run of WARNED_DAY with the two staging row-count checks turned
  into warn checks that fail (max 0 rows): one digest naming both.

The config is restored before the tests assert. The lookback is checked on the side: the 2018 runs
made here get no deadline mail. Secrets: no message holds any secret of the stack or the SMTP password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import ALERTS, KEYS, TERMINAL, Stack, server_time
from tests.security_helpers import leaks, stack_secrets
from tests.smtp_capture import Inbox, body_text, full_text

FAILED_KEY = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)).isoformat()
SKIPPED_DAY = "2018-11-27"
WARNED_DAY = KEYS[0]
WARNED_CHECKS = ["staging_events_has_rows", "staging_songs_has_rows"]


@dataclass
class AlertRuns:
    """The runs the setup made and every message the inbox holds once they are all done."""

    failed: dict[str, Any]
    skipped: dict[str, Any]
    warned: dict[str, Any]
    messages: list[EmailMessage]

    def of(self, run: dict[str, Any], event: str | None = None) -> list[EmailMessage]:
        return [
            m
            for m in self.messages
            if m["X-Sparkify-Run"] == run["dag_run_id"] and (event is None or m["X-Sparkify-Event"] == event)
        ]


def _alerting_config(original: str) -> str:
    """The stack's config with a wait timeout the first poke outlasts and two staging checks that warn."""
    document = json.loads(original)
    document["source"]["wait_timeout_hours"] = 1e-9  # 3.6 microseconds
    for check in document["checks"]:
        if check["name"] in WARNED_CHECKS:
            check.pop("min", None)
            check.update(max=0, severity="warn")
    return json.dumps(document)


def _is(event: str, run_id: str) -> Callable[[EmailMessage], bool]:
    return lambda m: m["X-Sparkify-Event"] == event and m["X-Sparkify-Run"] == run_id


@pytest.fixture(scope="module")
def alert_runs(stack: Stack, alerts_inbox: Inbox) -> Iterator[AlertRuns]:
    config_path = Path(os.environ["SPARKIFY_CONFIG"])
    original = config_path.read_text(encoding="utf-8")
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    before = {dag: stack.run_ids(dag) for dag in ("sparkify_staging", "sparkify_transform")}
    config_path.write_text(_alerting_config(original), encoding="utf-8")
    try:
        failed_id = stack.api.trigger_partition("sparkify_transform", FAILED_KEY)["dag_run_id"]
        warned_id = stack.api.trigger_partition("sparkify_staging", WARNED_DAY)["dag_run_id"]
        stack.create_backfill("sparkify_staging", SKIPPED_DAY, SKIPPED_DAY, "--reprocess-behavior", "completed")

        def staging_ours(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            skipped = ("backfill", SKIPPED_DAY)
            return [
                r for r in stack.new_runs(runs, before["sparkify_staging"])
                if r["dag_run_id"] == warned_id or (r["run_type"], r["partition_key"]) == skipped
            ]  # fmt: skip

        def transform_ours(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            followed = ("asset_triggered", WARNED_DAY)
            return [
                r for r in stack.new_runs(runs, before["sparkify_transform"])
                if r["dag_run_id"] == failed_id or (r["run_type"], r["partition_key"]) == followed
            ]  # fmt: skip

        staging = stack.wait_for_runs(
            "sparkify_staging",
            lambda runs: len(staging_ours(runs)) == 2 and all(r["state"] in TERMINAL for r in staging_ours(runs)),
        )
        transform = stack.wait_for_runs(
            "sparkify_transform",
            lambda runs: len(transform_ours(runs)) == 2 and all(r["state"] in TERMINAL for r in transform_ours(runs)),
        )
        by_id = {r["dag_run_id"]: r for r in staging_ours(staging) + transform_ours(transform)}
        skipped = next(r for r in staging_ours(staging) if r["dag_run_id"] != warned_id)
        for event, run_id in [
            ("task_failed", failed_id),
            ("deadline_missed", failed_id),
            ("partition_skipped", skipped["dag_run_id"]),
            ("check_warned", warned_id),
        ]:
            alerts_inbox.wait_for(_is(event, run_id), timeout=90)
        # Callbacks run once their run is done (task callbacks) or its deadline is handled (a scheduler
        # pass): a second message would have been sent by a pass that began after the last run ended.
        stack.wait_for_scheduler_pass(max(server_time(r["end_date"]) for r in by_id.values()))
    finally:
        config_path.write_text(original, encoding="utf-8")
    yield AlertRuns(by_id[failed_id], skipped, by_id[warned_id], alerts_inbox.snapshot())


def test_a_task_failing_for_good_sends_one_task_failed_mail(alert_runs: AlertRuns) -> None:
    run = alert_runs.failed
    assert (run["state"], run["partition_key"]) == ("failed", FAILED_KEY)
    [mail] = alert_runs.of(run, "task_failed")  # one task failed; its downstream tasks send nothing
    body = body_text(mail)
    assert mail["Subject"] == f"[sparkify] FAILED sparkify_transform {FAILED_KEY}: load_fact_songplays (try 1 of 4)"
    assert (mail["X-Sparkify-Dag"], mail["X-Sparkify-Partition"]) == ("sparkify_transform", FAILED_KEY)
    assert mail["To"] == ", ".join(ALERTS["to"]) and mail["From"] == ALERTS["from_email"]
    # The error's first line only (the message goes on with how to stage the day, on the same line).
    assert f"AirflowFailException: partition {FAILED_KEY} has nothing staged in staging_events" in body
    assert "Traceback" not in body
    log_url = (
        f"{os.environ['AIRFLOW__API__BASE_URL'].rstrip('/')}/dags/sparkify_transform/runs/"
        f"{quote(run['dag_run_id'])}/tasks/load_fact_songplays?try_number=1"
    )
    assert f'href="{log_url}"' in body


def test_a_partition_whose_file_never_arrives_sends_one_skipped_mail(alert_runs: AlertRuns) -> None:
    run = alert_runs.skipped
    assert (run["state"], run["run_type"]) == ("success", "backfill")  # skipped is never shown as failed
    [mail] = alert_runs.of(run, "partition_skipped")
    assert alert_runs.of(run, "task_failed") == []
    body = body_text(mail)
    assert mail["Subject"].startswith(f"[sparkify] SKIPPED sparkify_staging {SKIPPED_DAY}: no log file arrived")
    assert f"/log_data/2018/11/{SKIPPED_DAY}*" in body  # where the file was expected
    assert f"make backfill DAG=staging START={SKIPPED_DAY} END={SKIPPED_DAY}" in body
    assert "/tasks/wait_for_partition" in body


def test_a_run_past_its_partition_deadline_sends_one_deadline_mail(alert_runs: AlertRuns) -> None:
    run = alert_runs.failed
    [mail] = alert_runs.of(run, "deadline_missed")
    deadline = dt.date.fromisoformat(FAILED_KEY) + dt.timedelta(days=1)
    assert mail["Subject"] == f"[sparkify] LATE sparkify_transform {FAILED_KEY}: not done by {deadline} 06:00 UTC"
    body = body_text(mail)
    assert f"/dags/sparkify_transform/runs/{quote(run['dag_run_id'], safe='')}" in body
    assert re.search(r"Run type</th><td[^>]*>manual<", body)
    # The lookback: the 2018 runs made here are years past their deadline and are not watched.
    for old in (alert_runs.skipped, alert_runs.warned):
        assert alert_runs.of(old, "deadline_missed") == [], old["partition_key"]


def test_warned_checks_send_one_digest_per_run(alert_runs: AlertRuns, stack: Stack) -> None:
    run = alert_runs.warned
    assert run["state"] == "success"  # warn checks do not block
    [mail] = alert_runs.of(run, "check_warned")
    body = body_text(mail)
    assert mail["Subject"] == f"[sparkify] WARNED sparkify_staging {WARNED_DAY}: 2 check(s) warned"
    for name in WARNED_CHECKS:
        assert body.count(name) == 1, name
    assert body.count("max=0") == 2  # each check's rule, with what it observed
    staged = stack.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (WARNED_DAY,))
    assert re.search(rf"staging_events_has_rows</th><td[^>]*>observed {float(staged)};", body)


def test_no_secret_in_any_alert(alert_runs: AlertRuns, alerts_inbox: Inbox) -> None:
    secrets = stack_secrets() | {alerts_inbox.password}
    texts = [(f"{m['X-Sparkify-Event']} {m['Subject']}", full_text(m)) for m in alert_runs.messages]
    assert len(texts) >= 4
    assert leaks(texts, secrets) == []
