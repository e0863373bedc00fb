"""A real SMTP server for the alert tests: aiosmtpd on 127.0.0.1, with a login, keeping what it receives.

Not a mock: the notifier connects over TCP, authenticates with the Airflow connection's login and
password (AUTH without TLS, which only a loopback test server may allow) and sends through
SmtpHook exactly as it would to a real relay. The inbox parses each message as a mail client would.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Inbox:
    """The messages the server accepted, in arrival order, and how to reach it."""

    port: int
    login: str
    password: str
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def matching(self, predicate: Callable[[EmailMessage], bool]) -> list[EmailMessage]:
        return [m for m in self.snapshot() if predicate(m)]

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool], count: int = 1, timeout: float = 60
    ) -> list[EmailMessage]:
        """The matching messages once there are at least ``count`` (polled; fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        subjects = [m["Subject"] for m in self.snapshot()]
        raise AssertionError(f"no {count} matching message(s) within {timeout}s; received: {subjects}")

    def connection(self, from_email: str = "airflow@sparkify.test") -> str:
        """An Airflow connection (JSON, for AIRFLOW_CONN_<ID>) to this server."""
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": self.port,
                "login": self.login,
                "password": self.password,
                "extra": {
                    "disable_tls": True,
                    "disable_ssl": True,
                    "from_email": from_email,
                    "timeout": 10,
                    "retry_limit": 1,
                },
            }
        )


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.inbox.lock:
            self.inbox.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(login: str = "alerts", password: str = "smtp-Pa55-w0rd!") -> Iterator[Inbox]:
    """A running server that requires ``login``/``password``; stopped on exit."""
    inbox = Inbox(port=_free_port(), login=login, password=password)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            login.encode(),
            password.encode(),
        )
        if ok:
            inbox.logins.append(login)
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        _Handler(inbox),
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def body_text(message: EmailMessage) -> str:
    """The HTML body of an alert as text (what the tests search for fields and secrets)."""
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content() if part is not None else ""


def full_text(message: EmailMessage) -> str:
    """Every header and the decoded body: where a leaked secret would show."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return headers + "\n" + body_text(message) + "\n" + message.as_string()
