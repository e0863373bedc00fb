"""The pipeline's alert notifier: Airflow's notifier mechanism, sending through the SMTP provider.

One class for the four situations (``event``), because they share everything but the facts they
read: the connection, the recipients, the redaction and the sending. It is a BaseNotifier, so
the same object is a task callback (``on_failure_callback``, ``on_skipped_callback``,
``on_success_callback``: ``notify`` runs in the task's process) and a deadline alert's
AsyncCallback (the triggerer awaits it: ``async_notify``). The message itself is built by
sparkify.alert_messages; sending goes through SmtpHook's public API with the Airflow connection
named in config.json (alerts.conn_id), so host, login and password never leave Airflow's
connections.

``template_fields`` is empty on purpose: SmtpNotifier renders its subject and body with Jinja,
and an error text containing ``{{`` would then be evaluated; these messages are built in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseHook, BaseNotifier, conf

from sparkify import alert_messages
from sparkify.alert_messages import AlertMessage, RunRef
from sparkify.config import load_config
from sparkify.sources import partition_prefix

#: Connection extras whose values are secrets too (an AWS secret key, a token), besides the password.
_SECRET_EXTRA = ("secret", "token", "password", "passwd", "private", "key_id", "access_key")


class SparkifyNotifier(BaseNotifier):
    """Renders one situation's alert from the callback context and sends it through SmtpHook.

    ``to``/``secret_conn_ids`` are comma-separated strings (not lists) because a deadline alert
    keeps them as the kwargs of its AsyncCallback, which Airflow serialises and hashes.
    ``secret_conn_ids``: connections whose passwords must never appear in a message (the
    warehouse's, the source's, the mail server's); they are masked wherever an error text goes.
    ``checks_task_id``: the mapped check task whose results the check_warned digest reads.
    """

    template_fields = ()

    def __init__(
        self,
        *,
        event: str,
        conn_id: str,
        to: str,
        from_email: str | None = None,
        secret_conn_ids: str = "",
        checks_task_id: str = "check",
        context: Any = None,
    ) -> None:
        super().__init__(context=context)
        self.event = event
        self.conn_id = conn_id
        self.to = to
        self.from_email = from_email
        self.secret_conn_ids = secret_conn_ids
        self.checks_task_id = checks_task_id

    # ------------------------------------------------------------------ facts -> message

    def message(self, context: Mapping[str, Any]) -> AlertMessage | None:
        """This notifier's message for the situation in ``context``; None when there is nothing to say."""
        if self.event == "deadline_missed":
            return self._deadline_missed(context)
        run = _run_of(context)
        ti = context["ti"]
        if self.event == "task_failed":
            return alert_messages.task_failed(
                run,
                task_id=ti.task_id,
                map_name=getattr(ti, "rendered_map_index", None) or _map_index(ti),
                try_number=int(ti.try_number or 0),
                max_tries=(ti.max_tries + 1) if getattr(ti, "max_tries", None) is not None else None,
                error=alert_messages.first_line(context.get("exception")),
                log_url=ti.log_url,
                secrets=self._secrets(),
            )
        if self.event == "partition_skipped":
            task = context.get("task")
            timeout = getattr(task, "timeout", None)
            return alert_messages.partition_skipped(
                run,
                task_id=ti.task_id,
                reason=_missing_objects(run.partition_key),
                waited_hours=timeout / 3600 if isinstance(timeout, int | float) else None,
                log_url=ti.log_url,
                secrets=self._secrets(),
            )
        if self.event == "check_warned":
            results = ti.xcom_pull(task_ids=self.checks_task_id)
            rows = [results] if isinstance(results, Mapping) else [r for r in results or () if isinstance(r, Mapping)]
            return alert_messages.checks_warned(run, results=rows, url=_run_url(run))
        raise ValueError(f"unknown alert event {self.event!r}")

    def _deadline_missed(self, context: Mapping[str, Any]) -> AlertMessage:
        """From the deadline callback's context: the run as the REST API shows it, and the deadline."""
        dag_run = context.get("dag_run") or {}
        run = RunRef(str(dag_run.get("dag_id")), str(dag_run.get("dag_run_id")), dag_run.get("partition_key"))
        deadline = (context.get("deadline") or {}).get("deadline_time")
        if isinstance(deadline, str):
            deadline = dt.datetime.fromisoformat(deadline.replace("Z", "+00:00"))
        return alert_messages.deadline_missed(
            run,
            deadline=deadline if isinstance(deadline, dt.datetime) else dt.datetime.now(dt.UTC),
            state=str(dag_run.get("state") or ""),
            run_type=dag_run.get("run_type"),
            url=_run_url(run),
        )

    def _secrets(self) -> list[str]:
        """Passwords (and secret-looking extras) of secret_conn_ids; a missing connection has none."""
        secrets: list[str] = []
        for conn_id in filter(None, (c.strip() for c in self.secret_conn_ids.split(","))):
            try:
                conn = BaseHook.get_connection(conn_id)
            except Exception:  # not defined in this process: nothing of it can leak
                self.log.debug("connection %s not found: no secret of it to mask", conn_id)
                continue
            secrets.append(conn.password or "")
            secrets.extend(
                str(value)
                for name, value in (conn.extra_dejson or {}).items()
                if isinstance(value, str) and any(word in name.lower() for word in _SECRET_EXTRA)
            )
        return [s for s in secrets if s]

    # ------------------------------------------------------------------ sending

    def notify(self, context: Any) -> None:
        """Task callbacks (in the task's process): build and send synchronously."""
        message = self.message(context)
        if message is None:
            return
        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(**self._email(message))
        self.log.info("alert %s sent to %s: %s", message.event, self.to, message.subject)

    async def async_notify(self, context: Any) -> None:
        """Deadline alerts (in the triggerer): build and send without blocking its event loop."""
        message = self.message(context)
        if message is None:
            return
        async with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            await hook.asend_email_smtp(**self._email(message))
        self.log.info("alert %s sent to %s: %s", message.event, self.to, message.subject)

    def _email(self, message: AlertMessage) -> dict[str, Any]:
        return {
            "to": self.to,
            "from_email": self.from_email,
            "subject": message.subject,
            "html_content": message.html,
            "custom_headers": message.headers,
        }


def _run_of(context: Mapping[str, Any]) -> RunRef:
    """The task callback context's run: its DAG, run id and partition key."""
    ti = context["ti"]
    dag_run = context.get("dag_run")
    key = getattr(dag_run, "partition_key", None) or context.get("partition_key")
    return RunRef(ti.dag_id, ti.run_id, str(key) if key not in (None, "", "None") else None)


def _map_index(ti: Any) -> str | None:
    """'#3' for a mapped task without a rendered name; None for an unmapped one."""
    index = getattr(ti, "map_index", -1)
    return f"#{index}" if isinstance(index, int) and index >= 0 else None


def _run_url(run: RunRef) -> str:
    """The run's page, under the UI's address as Airflow knows it ([api] base_url)."""
    base_url = conf.get("api", "base_url", fallback="http://localhost:8080/")
    return alert_messages.run_url(base_url, run.dag_id, run.run_id)


def _missing_objects(partition_key: str | None) -> str:
    """Where the day's objects were expected (source.events_partition_prefix, in this task's config.json)."""
    if not partition_key:
        return "no log objects arrived"
    try:
        source = load_config().source
        return f"no log objects under {source.uri.rstrip('/')}/{partition_prefix(source, partition_key)}*"
    except Exception:  # the alert matters more than the detail
        return f"no log objects arrived for {partition_key}"
