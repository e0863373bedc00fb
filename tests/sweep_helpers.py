"""What the late-data sweep tests share: a day file with one more songplay, S3 LIST counting, a write log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


def with_one_more_nextsong(day_file: bytes) -> bytes:
    """The day's bytes plus one new NextSong event by a logged-in user: one more songplay for the day.

    A copy of the file's last such event with another item in the session: a new songplay
    identity (user, session, item, ts) with the same ts and level, so no dimension changes (the
    time row exists, the user's latest event is no later) and putting the original object back
    restores the warehouse exactly. Appended on its own line (the file keeps ending without a
    newline, like the real logs).
    """
    lines = day_file.split(b"\n")
    last = next(
        record
        for record in (json.loads(line) for line in reversed(lines) if line.strip())
        if record.get("page") == "NextSong" and record.get("userId")
    )
    extra = {**last, "itemInSession": last["itemInSession"] + 1000}
    return day_file.rstrip(b"\n") + b"\n" + json.dumps(extra, separators=(",", ":")).encode()


@contextmanager
def counting_list_requests(client: Any) -> Iterator[list[str]]:
    """Every ListObjectsV2 HTTP request the boto3 client sends while the block runs (its prefixes)."""
    sent: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params.get("Prefix", ""))

    client.meta.events.register("provide-client-params.s3.ListObjectsV2", record)
    try:
        yield sent
    finally:
        client.meta.events.unregister("provide-client-params.s3.ListObjectsV2", record)


class WriteLog:
    """A statement-level trigger on every table of a schema that records each INSERT, UPDATE, DELETE,
    TRUNCATE (COPY fires INSERT triggers) into ``_write_log``: a sweep that "writes nothing" is
    then an observation of the database, not of the code that was expected to run."""

    def __init__(self, url: str, schema: str, tables: list[str]) -> None:
        self.url, self.schema, self.tables = url, schema, tables

    def install(self) -> WriteLog:
        schema = f'"{self.schema}"'
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}._write_log (table_name TEXT, operation TEXT)")
            conn.execute(
                f"CREATE OR REPLACE FUNCTION {schema}._log_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN INSERT INTO {schema}._write_log VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$"
            )
            for table in self.tables:
                conn.execute(
                    f'CREATE TRIGGER _log_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {schema}."{table}" '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}._log_write()"
                )
        return self

    def entries(self) -> list[tuple[str, str]]:
        """(table, operation) of every write statement since install (or the last clear)."""
        with psycopg.connect(self.url) as conn:
            return [tuple(row) for row in conn.execute(f'SELECT * FROM "{self.schema}"._write_log').fetchall()]

    def clear(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{self.schema}"._write_log')
