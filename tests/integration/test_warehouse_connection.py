"""The warehouse connects through the postgres provider's hook: connection extras reach psycopg.

Before, the adapter built its own parameters from host/port/login and dropped every extra, so a
managed PostgreSQL that requires TLS (sslmode, sslrootcert) or session options was unreachable.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import psycopg
import pytest

from sparkify.config import WarehouseConfig
from sparkify.warehouse import warehouse_for

pytestmark = pytest.mark.integration


def connection(url: str, extra: dict) -> str:
    parts = urlsplit(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": parts.hostname,
            "port": parts.port,
            "login": parts.username,
            "password": parts.password,
            "schema": parts.path.lstrip("/"),
            "extra": extra,
        }
    )


def test_sslmode_extra_reaches_the_driver(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server has no TLS: sslmode=require must make the driver refuse to connect."""
    monkeypatch.setenv("AIRFLOW_CONN_TLS_WAREHOUSE", connection(warehouse_url, {"sslmode": "require"}))
    warehouse = warehouse_for(WarehouseConfig("tls_warehouse", "public"))
    with pytest.raises(psycopg.OperationalError, match="SSL"):
        warehouse.fetch_one("SELECT 1")
    monkeypatch.setenv("AIRFLOW_CONN_TLS_WAREHOUSE", connection(warehouse_url, {"sslmode": "disable"}))
    assert warehouse_for(WarehouseConfig("tls_warehouse", "public")).fetch_one("SELECT 1") == (1,)


def test_options_extra_is_applied_to_the_session(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPTIONS_WAREHOUSE", connection(warehouse_url, {"options": "-c statement_timeout=4321"})
    )
    warehouse = warehouse_for(WarehouseConfig("options_warehouse", "public"))
    assert warehouse.fetch_one("SHOW statement_timeout") == ("4321ms",)


def test_application_name_extra_names_the_session(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack's connection sets application_name so pg_stat_activity shows whose session it is."""
    monkeypatch.setenv("AIRFLOW_CONN_NAMED_WAREHOUSE", connection(warehouse_url, {"application_name": "sparkify"}))
    warehouse = warehouse_for(WarehouseConfig("named_warehouse", "public"))
    assert warehouse.fetch_one("SHOW application_name") == ("sparkify",)


def test_libpq_environment_still_applies(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PGOPTIONS (libpq's own mechanism) is not overridden by the adapter."""
    monkeypatch.setenv("AIRFLOW_CONN_PLAIN_WAREHOUSE", connection(warehouse_url, {}))
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=1234")
    warehouse = warehouse_for(WarehouseConfig("plain_warehouse", "public"))
    assert warehouse.fetch_one("SHOW lock_timeout") == ("1234ms",)


def test_a_task_reuses_one_connection_and_an_error_discards_it(
    warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consecutive transactions share one session (no reconnect and re-authentication per statement);
    a failed transaction discards it, so the next one starts on a fresh, working connection."""
    monkeypatch.setenv("AIRFLOW_CONN_KEPT_WAREHOUSE", connection(warehouse_url, {}))
    warehouse = warehouse_for(WarehouseConfig("kept_warehouse", "public"))

    def backend() -> int:
        return warehouse.fetch_one("SELECT pg_backend_pid()")[0]

    first = backend()
    assert backend() == first
    _, rows = warehouse.fetch_read_only("SELECT pg_backend_pid()", None, timeout_seconds=5)
    assert rows == [(first,)]
    with pytest.raises(psycopg.errors.DivisionByZero):
        warehouse.fetch_one("SELECT 1 / 0")
    second = backend()
    assert second != first
    with psycopg.connect(warehouse_url) as admin:  # the discarded session is gone from the server
        assert admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first,)).fetchone() == (0,)
    warehouse.close()
    assert backend() not in (first, second)
    warehouse.close()
