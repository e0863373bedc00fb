"""Security of the local stack and of what the repository ships (issue 6 §5).

- no secret of the stack appears in DAG code, config.json or sql/ (secrets live in the state dir);
- Postgres listens on 127.0.0.1 only and refuses a wrong password over TCP;
- identifiers reach SQL only through the allow-list, values only as bind parameters.
The e2e twin (tests/e2e/test_security_e2e.py) covers rendered templates, task logs, the demo
summary and the API login.
"""

from __future__ import annotations

import os
import re
import subprocess
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify.sqlfiles import quote_ident
from sparkify.warehouse.sql import build_delete_partition_sql
from tests.security_helpers import files_text, leaks, stack_secrets


def test_no_secret_in_dags_config_or_sql() -> None:
    roots = [REPO_ROOT / "dags", REPO_ROOT / "config.json", REPO_ROOT / "sql", REPO_ROOT / "plugins"]
    assert leaks(files_text(roots), stack_secrets()) == []


def test_postgres_listens_on_loopback_only(warehouse_url: str) -> None:
    port = urlsplit(warehouse_url).port
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    local = [line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{port}")]
    assert local, f"nothing listens on port {port}"
    assert all(address.startswith("127.0.0.1:") for address in local), local


def test_wrong_password_is_refused(warehouse_url: str) -> None:
    parts = urlsplit(warehouse_url)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:not-the-password@{parts.hostname}:{parts.port}"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)
    nopass = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))
    env_password = os.environ.pop("PGPASSWORD", None)
    try:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(nopass, connect_timeout=5, passfile="/dev/null")
    finally:
        if env_password is not None:
            os.environ["PGPASSWORD"] = env_password


@pytest.mark.parametrize("name", ['users"; DROP TABLE x; --', "Users", "a b", "1abc", "x\n", ""])
def test_identifiers_outside_the_allow_list_never_reach_sql(name: str) -> None:
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        quote_ident(name)


def test_values_are_bind_parameters() -> None:
    sql = build_delete_partition_sql('"s"."t"', "partition_key")
    assert sql.endswith("= %(partition_key)s") and "'" not in sql


def test_no_value_interpolated_into_sql_in_the_package() -> None:
    """Every f-string handed to execute()/copy() interpolates only names that went through the
    allow-list (table()/qualified()/quote_ident() results, rendered sql/ files, build_* output)."""
    allowed = {
        "target", "rejects", "manifest", "relation", "columns", "cols", "keys", "select_sql", "source",
        "table", "quote_ident", "self.table", "qualified", "staging_table", "rejected_table", "build_copy_sql",
        "values",  # a list of %(name)s placeholders
        "temp",  # a constant temp-table name
        "timeout_ms",  # an int (milliseconds): SET statement_timeout takes no bind parameter
    }  # fmt: skip
    offenders = []
    for path in (REPO_ROOT / "plugins" / "sparkify").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"(?:execute|copy)\(\s*f\"([^\"]*)\"", text):
            for expression in re.findall(r"\{([^}:!]+)", match.group(1)):
                expression = expression.strip()
                if not any(expression == name or expression.startswith(name + "(") for name in allowed):
                    offenders.append(f"{path.name}: {{{expression}}}")
    assert offenders == []
