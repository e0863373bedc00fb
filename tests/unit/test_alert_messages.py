"""The alert e-mails as pure functions: each situation's subject and fields, the links, the error's
first line, and redaction (no secret survives, even when the error text carries the password)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sparkify import alert_messages as m
from sparkify.alert_messages import RunRef

RUN = RunRef("sparkify_transform", "manual__2018-11-06T01:02:03+00:00", "2018-11-05")
LOG = "http://airflow.example/dags/sparkify_transform/runs/manual__x/tasks/load_dimension/mapped/2?try_number=4"
PASSWORD = "pa:ss/wo%rd&<1>"  # URI- and HTML-special characters on purpose


def field(html: str, name: str) -> str:
    """The value cell of a row of the message's table (unescaped text)."""
    found = re.search(rf"<th[^>]*>{re.escape(name)}</th><td[^>]*>(.*?)</td>", html)
    assert found, f"no row {name!r} in {html}"
    return found.group(1)


def failed(error: str = "RuntimeError: boom", **kwargs) -> m.AlertMessage:
    args = {"task_id": "load_dimension", "map_name": "artists", "try_number": 4, "max_tries": 4, "log_url": LOG}
    return m.task_failed(RUN, error=error, **{**args, **kwargs})


def test_task_failed_names_dag_partition_task_try_error_and_log() -> None:
    message = failed()
    assert message.event == "task_failed"
    assert message.subject == "[sparkify] FAILED sparkify_transform 2018-11-05: load_dimension [artists] (try 4 of 4)"
    assert field(message.html, "DAG") == "sparkify_transform"
    assert field(message.html, "Partition") == "2018-11-05"
    assert field(message.html, "Run") == "manual__2018-11-06T01:02:03+00:00"
    assert field(message.html, "Task") == "load_dimension [artists]"
    assert field(message.html, "Try") == "try 4 of 4"
    assert field(message.html, "Error") == "RuntimeError: boom"
    assert f'<a href="{LOG.replace("&", "&amp;")}">Open the task log in Airflow</a>' in message.html
    assert message.link == LOG
    assert "make backfill DAG=transform START=2018-11-05 END=2018-11-05" in message.html
    assert message.headers == {
        "X-Sparkify-Event": "task_failed",
        "X-Sparkify-Dag": "sparkify_transform",
        "X-Sparkify-Run": RUN.run_id,
        "X-Sparkify-Partition": "2018-11-05",
    }


def test_an_unmapped_task_and_a_run_without_key() -> None:
    message = m.task_failed(
        RunRef("sparkify_staging", "manual__x", None), task_id="stage_events", map_name=None, try_number=1,
        max_tries=None, error="", log_url=LOG,
    )  # fmt: skip
    assert message.subject == "[sparkify] FAILED sparkify_staging (no partition key): stage_events (try 1)"
    assert field(message.html, "Error") == "(no message)"
    assert message.headers["X-Sparkify-Partition"] == ""


def test_first_line_is_the_type_and_the_first_line_of_the_message() -> None:
    error = ValueError("partition 2018-11-05 has nothing staged\nTraceback (most recent call last):\n  File …")
    assert m.first_line(error) == "ValueError: partition 2018-11-05 has nothing staged"
    assert m.first_line("  psycopg.OperationalError: gone\nmore") == "psycopg.OperationalError: gone"
    assert m.first_line(KeyError()) == "KeyError"
    assert m.first_line(None) == ""
    long = m.first_line(RuntimeError("x" * 2000))
    assert len(long) == m.MAX_ERROR_CHARS and long.endswith("…")


def test_error_text_is_escaped_not_markup() -> None:
    message = failed(error="ValueError: <script>alert(1)</script> {{ conn.password }}")
    assert "<script>" not in message.html
    assert field(message.html, "Error") == "ValueError: &lt;script&gt;alert(1)&lt;/script&gt; {{ conn.password }}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"login failed for password {PASSWORD}", "login failed for password ***"),
        ("postgresql://sparkify:pa%3Ass%2Fwo%25rd%26%3C1%3E@db/x gone", "postgresql://sparkify:***@db/x gone"),
        ("dsn host=db user=u password=hunter22 dbname=x", "dsn host=db user=u password=*** dbname=x"),
        ('{"aws_secret_access_key": "abc/DEF+ghi"}', '{"aws_secret_access_key": ***}'),
        ("redis://:tok3n@host:6379/0", "redis://:***@host:6379/0"),
        ("nothing secret here: 2018-11-05 has 300 rows", "nothing secret here: 2018-11-05 has 300 rows"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert m.redact(text, [PASSWORD]) == expected


def test_no_secret_survives_in_a_message_even_when_the_error_carries_the_password() -> None:
    error = m.first_line(
        RuntimeError(f"connection to server failed: FATAL: password authentication failed; tried {PASSWORD} "
                     f"and postgresql://sparkify:{PASSWORD}@127.0.0.1/sparkify")
    )  # fmt: skip
    message = failed(error=error, secrets=[PASSWORD])
    for text in (message.subject, message.html, *message.headers.values()):
        assert PASSWORD not in text
        assert "pa:ss" not in text and "wo%rd" not in text and "wo%25rd" not in text
    assert "tried *** and postgresql://sparkify:***@127.0.0.1/sparkify" in field(message.html, "Error")


def test_partition_skipped_says_where_the_file_was_expected_and_how_to_rerun() -> None:
    message = m.partition_skipped(
        RunRef("sparkify_staging", "scheduled__2018-11-06", "2018-11-05"), task_id="wait_for_partition",
        reason="no log objects under s3://bucket/log_data/2018/11/2018-11-05*", waited_hours=6, log_url=LOG,
    )  # fmt: skip
    assert message.event == "partition_skipped"
    assert message.subject == "[sparkify] SKIPPED sparkify_staging 2018-11-05: no log file arrived within 6 h"
    assert field(message.html, "Waited") == "6 h"
    assert field(message.html, "Why") == "no log objects under s3://bucket/log_data/2018/11/2018-11-05*"
    assert "make backfill DAG=staging START=2018-11-05 END=2018-11-05" in message.html
    assert "Open the sensor&#x27;s log in Airflow" in message.html


@pytest.mark.parametrize(("hours", "shown"), [(6, "6 h"), (0.5, "30 min"), (1 / 3600, "1 s"), (1.5, "1.5 h")])
def test_the_wait_is_shown_as_configured(hours: float, shown: str) -> None:
    message = m.partition_skipped(RUN, task_id="w", reason="r", waited_hours=hours, log_url=LOG)
    assert field(message.html, "Waited") == shown


def test_deadline_missed_names_the_deadline_state_and_links_the_run() -> None:
    url = m.run_url("http://airflow.example/", "sparkify_transform", RUN.run_id)
    assert url == "http://airflow.example/dags/sparkify_transform/runs/manual__2018-11-06T01%3A02%3A03%2B00%3A00"
    deadline = dt.datetime(2018, 11, 6, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 06:00 UTC
    message = m.deadline_missed(RUN, deadline=deadline, state="running", run_type="asset_triggered", url=url)
    assert message.event == "deadline_missed"
    assert message.subject == "[sparkify] LATE sparkify_transform 2018-11-05: not done by 2018-11-06 06:00 UTC"
    assert field(message.html, "Deadline") == "2018-11-06 06:00 UTC"
    assert field(message.html, "Run state") == "running"
    assert field(message.html, "Run type") == "asset_triggered"
    assert f'href="{url}"' in message.html and message.link == url


def test_one_digest_lists_every_warned_check_and_nothing_else() -> None:
    shares = "error_if failing_share>0.5; warn_if failing_rows>0"
    results = [
        {"name": "songplays_in_partition_day", "status": "warned", "observed": 3.0, "threshold": shares},
        {"name": "users_key_unique", "status": "passed", "observed": 0.0, "threshold": "failing_rows=0"},
        {"name": "songplays_fresh", "status": "warned", "observed": 7.5, "threshold": "max_age_hours=6"},
    ]
    message = m.checks_warned(RUN, results=results, url="http://airflow.example/run")
    assert message is not None and message.event == "check_warned"
    assert message.subject == "[sparkify] WARNED sparkify_transform 2018-11-05: 2 check(s) warned"
    assert field(message.html, "songplays_fresh") == "observed 7.5; rule max_age_hours=6"
    assert field(message.html, "songplays_in_partition_day").startswith("observed 3.0; rule error_if")
    assert "users_key_unique" not in message.html
    assert "2 of the run&#x27;s 3 check(s) warned" in message.html
    assert message.html.index("songplays_fresh") < message.html.index("songplays_in_partition_day")


def test_no_digest_when_nothing_warned() -> None:
    assert m.checks_warned(RUN, results=[{"name": "a", "status": "passed"}], url="u") is None
    assert m.checks_warned(RUN, results=[], url="u") is None
