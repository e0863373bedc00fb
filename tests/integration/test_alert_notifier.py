"""The notifier through SmtpHook to a real SMTP server (aiosmtpd on 127.0.0.1, login required).

Both ways Airflow calls it: as a task callback (``notifier(context)``, synchronous, in the task's
process) and as a deadline alert's AsyncCallback (constructed with the context, then awaited, as
the triggerer's CallbackTrigger does). The callback context is a stand-in for the task runner's
(the attributes the notifier reads); the SMTP side is real. Connections come from AIRFLOW_CONN_*
as in the stack.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from sparkify.notifier import SparkifyNotifier
from tests.smtp_capture import Inbox, body_text, full_text, smtp_server

pytestmark = pytest.mark.integration

WAREHOUSE_PASSWORD = "wh-S3cret/p@ss"
BASE = {"conn_id": "sparkify_alerts", "to": "oncall@sparkify.test, data@sparkify.test"}
SECRETS = "sparkify_alerts,sparkify_warehouse"
LOG_URL = "http://airflow.test:8080/dags/sparkify_transform/runs/manual__x/tasks/load_fact_songplays?try_number=4"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_server() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SPARKIFY_ALERTS", server.connection("airflow@sparkify.test"))
        warehouse = {"conn_type": "postgres", "host": "127.0.0.1", "login": "sparkify", "password": WAREHOUSE_PASSWORD}
        monkeypatch.setenv("AIRFLOW_CONN_SPARKIFY_WAREHOUSE", json.dumps(warehouse))
        monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.test:8080")
        yield server


def task_context(error: BaseException | None = None, results: Any = None, **ti: Any) -> dict[str, Any]:
    fields = {
        "dag_id": "sparkify_transform", "run_id": "manual__2018-11-06T00:00:00+00:00", "task_id": "load_fact_songplays",
        "map_index": -1, "rendered_map_index": None, "try_number": 4, "max_tries": 3,
        "log_url": LOG_URL,
        "xcom_pull": lambda task_ids: results,
    }  # fmt: skip
    instance = SimpleNamespace(**{**fields, **ti})
    return {"ti": instance, "dag_run": SimpleNamespace(partition_key="2018-11-05"), "exception": error}


def test_a_failure_callback_sends_one_mail_without_the_password_in_the_error(inbox: Inbox) -> None:
    error = RuntimeError(
        f"connection to postgresql://sparkify:{WAREHOUSE_PASSWORD}@127.0.0.1/sparkify failed: "
        f"password {WAREHOUSE_PASSWORD} and {inbox.password} rejected\nTraceback …"
    )
    SparkifyNotifier(event="task_failed", secret_conn_ids=SECRETS, **BASE)(task_context(error))
    [mail] = inbox.wait_for(lambda m: True)
    assert inbox.logins == [inbox.login]  # authenticated with the connection's login
    assert mail["Subject"] == "[sparkify] FAILED sparkify_transform 2018-11-05: load_fact_songplays (try 4 of 4)"
    assert (mail["From"], mail["To"]) == ("airflow@sparkify.test", BASE["to"])
    assert mail["X-Sparkify-Event"] == "task_failed" and mail["X-Sparkify-Partition"] == "2018-11-05"
    body = body_text(mail)
    masked = "RuntimeError: connection to postgresql://sparkify:***@127.0.0.1/sparkify failed: password *** and ***"
    assert masked + " rejected" in body
    assert "Traceback" not in body
    assert f'href="{LOG_URL}"' in body
    text = full_text(mail)
    assert WAREHOUSE_PASSWORD not in text and inbox.password not in text


def test_a_mapped_task_is_named_by_its_map_index_name(inbox: Inbox) -> None:
    context = task_context(ValueError("x"), task_id="check", map_index=3, rendered_map_index="users_key_unique")
    SparkifyNotifier(event="task_failed", **BASE)(context)
    [mail] = inbox.wait_for(lambda m: True)
    assert "check [users_key_unique]" in mail["Subject"]


def test_the_digest_is_one_mail_for_all_warned_checks_and_none_without(inbox: Inbox) -> None:
    results = [
        {"name": "songplays_fresh", "status": "warned", "observed": 7.0, "threshold": "max_age_hours=6"},
        {"name": "users_key_unique", "status": "passed", "observed": 0.0, "threshold": "failing_rows=0"},
        {"name": "songplays_in_partition_day", "status": "warned", "observed": 2.0, "threshold": "warn_if rows>0"},
    ]
    digest = SparkifyNotifier(event="check_warned", checks_task_id="check", **BASE)
    digest(task_context(results=results, task_id="publish"))
    digest(task_context(results=[results[1]], task_id="publish"))  # nothing warned: no mail
    digest(task_context(results=results[0], task_id="publish"))  # one mapped check: xcom_pull gives the dict
    mails = inbox.wait_for(lambda m: True, count=2)
    assert [m["Subject"] for m in mails] == [
        "[sparkify] WARNED sparkify_transform 2018-11-05: 2 check(s) warned",
        "[sparkify] WARNED sparkify_transform 2018-11-05: 1 check(s) warned",
    ]
    run_url = "http://airflow.test:8080/dags/sparkify_transform/runs/manual__2018-11-06T00%3A00%3A00%2B00%3A00"
    assert f'href="{run_url}"' in body_text(mails[0])


def test_the_deadline_callback_is_awaited_like_the_triggerer_does(inbox: Inbox) -> None:
    # airflow.triggers.callback.CallbackTrigger: callback(**kwargs, context=context), then await.
    context = {
        "dag_run": {"dag_id": "sparkify_staging", "dag_run_id": "scheduled__2018-11-06", "partition_key": "2018-11-05",
                    "state": "running", "run_type": "scheduled"},
        "deadline": {"id": "0190", "deadline_time": "2018-11-06T06:00:00+00:00"},
    }  # fmt: skip

    async def trigger() -> None:
        await SparkifyNotifier(event="deadline_missed", secret_conn_ids=SECRETS, **BASE, context=context)

    asyncio.run(trigger())
    [mail] = inbox.wait_for(lambda m: True)
    assert inbox.logins == [inbox.login]
    assert mail["Subject"] == "[sparkify] LATE sparkify_staging 2018-11-05: not done by 2018-11-06 06:00 UTC"
    assert 'href="http://airflow.test:8080/dags/sparkify_staging/runs/scheduled__2018-11-06"' in body_text(mail)


def test_a_skip_names_where_the_file_was_expected(inbox: Inbox) -> None:
    context = task_context(task_id="wait_for_partition", try_number=1, max_tries=0)
    context["task"] = SimpleNamespace(timeout=6 * 3600.0)
    context["dag_run"] = SimpleNamespace(partition_key="2018-11-27")
    SparkifyNotifier(event="partition_skipped", **BASE)(context)
    [mail] = inbox.wait_for(lambda m: True)
    assert mail["Subject"] == "[sparkify] SKIPPED sparkify_transform 2018-11-27: no log file arrived within 6 h"
    assert "/log_data/2018/11/2018-11-27*" in body_text(mail)
