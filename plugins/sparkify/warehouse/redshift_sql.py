"""Amazon Redshift's SQL: COPY from S3 with JSONPaths, MERGE upserts, DDL attributes; pure builders.

Differences from PostgreSQL, all expressed here and used by sparkify.warehouse.redshift:
- staging: COPY … FROM a manifest of the day's S3 objects, IAM_ROLE …, FORMAT AS JSON
  '<jsonpaths>' into a temp table, then delete + insert the partition in the same transaction
  (the Python parser is not in the path; bad lines are skipped up to MAXERROR and copied from
  STL_LOAD_ERRORS into rejected_lines);
- no INSERT … ON CONFLICT: MERGE (upsert, upsert_latest) and INSERT … WHERE NOT EXISTS;
- DDL gets distribution and sort keys (REDSHIFT_TABLE_ATTRIBUTES).
Lineage on Redshift: COPY cannot say which object or line a row came from, so staged events
carry source_key = the partition's S3 prefix and line_number = the row's rank by
(ts, session_id, item_in_session, user_id) within the partition (deterministic, not the file
line); rejected lines keep the real object key and line number from STL_LOAD_ERRORS.
Mojibake repair (song_clean/artist_clean) needs byte-level Latin-1 re-decoding that Redshift
SQL has no function for (and new Python UDFs are no longer supported): on Redshift the clean
columns hold the raw strings, so double-encoded titles do not match the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sparkify.source_schema import EVENT_FIELDS, LOAD_SEQ_COLUMN, SONG_FIELDS
from sparkify.sqlfiles import quote_ident
from sparkify.warehouse.sql import upsert_updates

#: JSON key of a log event / song record -> staging column, in COPY column order (source_schema).
EVENT_JSON_FIELDS: tuple[tuple[str, str], ...] = tuple((field.json, field.column) for field in EVENT_FIELDS)
SONG_JSON_FIELDS: tuple[tuple[str, str], ...] = tuple((field.json, field.column) for field in SONG_FIELDS)
#: Distribution and sort keys per table. Dimensions that every songplay joins are small: ALL
#: copies them to every node; the fact and songs share song_id as DISTKEY so their join is local.
REDSHIFT_TABLE_ATTRIBUTES: dict[str, str] = {
    "staging_events": "DISTSTYLE EVEN SORTKEY (partition_key, ts)",
    "staging_songs": "DISTKEY (song_id) SORTKEY (song_id)",
    "songplays": "DISTKEY (song_id) SORTKEY (partition_key, start_time)",
    "songs": "DISTKEY (song_id) SORTKEY (song_id)",
    "users": "DISTSTYLE ALL SORTKEY (user_id)",
    "artists": "DISTSTYLE ALL SORTKEY (artist_id)",
    "time": "DISTKEY (start_time) SORTKEY (start_time)",
    "load_manifest": "DISTSTYLE ALL",
    "event_manifest": "DISTSTYLE ALL SORTKEY (partition_key)",
    "rejected_lines": "DISTSTYLE EVEN SORTKEY (partition_key)",
}
DEFAULT_MAXERROR = 1000
DEFAULT_REGION = "us-east-1"
_CREATE_TABLE = re.compile(r'^\s*CREATE TABLE IF NOT EXISTS "[a-z_][a-z0-9_]*"\."([a-z_][a-z0-9_]*)"', re.MULTILINE)
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_S3_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_.=/+-]*)?$")


def build_jsonpaths(fields: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The JSONPaths document mapping JSON fields to COPY columns, in column order.

    Bracket notation so field names are taken literally (no dots or wildcards interpreted).
    """
    return {"jsonpaths": [f"$['{json_field}']" for json_field, _ in fields]}


def _literal(value: str, pattern: re.Pattern[str], what: str) -> str:
    """A quoted SQL literal for a value COPY cannot take as a bind parameter, after validation."""
    if not pattern.fullmatch(value):
        raise ValueError(f"invalid {what} {value!r}")
    return "'" + value + "'"


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """How COPY reaches S3: the cluster's IAM role (never keys), region and error budget."""

    iam_role: str
    region: str
    maxerror: int = DEFAULT_MAXERROR
    jsonpaths_prefix: str = ""


def build_redshift_copy_sql(
    table: str,
    columns: Sequence[str],
    s3_location: str,
    jsonpaths_location: str,
    options: CopyOptions,
    manifest: bool = False,
) -> str:
    """COPY JSON from S3 with a JSONPaths file; credentials are the IAM role only, never keys."""
    if not 0 <= options.maxerror <= 100000:
        raise ValueError(f"MAXERROR must be within 0..100000, got {options.maxerror}")
    cols = ", ".join(quote_ident(c) for c in columns)
    return (
        f"COPY {table} ({cols})\n"
        f"FROM {_literal(s3_location, _S3_LOCATION, 'S3 location')}\n"
        f"IAM_ROLE {_literal(options.iam_role, _IAM_ROLE_ARN, 'IAM role ARN')}\n"
        f"FORMAT AS JSON {_literal(jsonpaths_location, _S3_LOCATION, 'JSONPaths location')}\n"
        + ("MANIFEST\n" if manifest else "")
        + "TIMEFORMAT 'epochmillisecs'\n"
        f"REGION {_literal(options.region, _REGION, 'region')}\n"
        f"MAXERROR {int(options.maxerror)}\n"
        "COMPUPDATE OFF STATUPDATE OFF"
    )


def build_temp_like_sql(temp: str, table: str, columns: Sequence[str]) -> str:
    """An empty temp table with the staging table's column types (CTAS copies the types)."""
    cols = ", ".join(quote_ident(c) for c in columns)
    return f"CREATE TEMP TABLE {temp} AS SELECT {cols} FROM {table} WHERE 1 = 0"


def build_insert_events_sql(table: str, temp: str, fields: Sequence[tuple[str, str]]) -> str:
    """Move COPYed events into the partition, adding lineage the Python path gets from the parser.

    line_number: rank by event order (deterministic); artist_clean/song_clean: raw strings
    (no mojibake repair in Redshift SQL).
    """
    raw = [quote_ident(column) for _, column in fields]
    target = [
        "partition_key", "source_key", "line_number", "record_in_line", *[c for _, c in fields],
        "artist_clean", "song_clean",
    ]  # fmt: skip
    order = "ts, session_id, item_in_session, user_id, page, song, artist"
    return (
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in target)})\n"
        f"SELECT %(partition_key)s, %(source_key)s,\n"
        f"       ROW_NUMBER() OVER (ORDER BY {order}), 1,\n"
        f"       {', '.join(raw)}, artist, song\n"
        f"FROM {temp}"
    )


def build_copy_rejects_sql(rejected_table: str) -> str:
    """Lines the last COPY skipped (MAXERROR) into rejected_lines, with their real object and line.

    STL_LOAD_ERRORS keeps at most 1024 characters of a line: byte_length and raw_sha256 describe
    that logged text, not necessarily the whole line.
    """
    return (
        f"INSERT INTO {rejected_table} (partition_key, source_key, line_number, record_in_line, reason,"
        " byte_length, raw_sha256, raw_line)\n"
        "SELECT %(partition_key)s, TRIM(filename), line_number, 1,\n"
        "       LEFT(TRIM(colname) || ': ' || TRIM(err_reason), 1024),\n"
        "       OCTET_LENGTH(TRIM(raw_line)), SHA2(TRIM(raw_line), 256), LEFT(TRIM(raw_line), 4000)\n"
        "FROM stl_load_errors\n"
        "WHERE query = pg_last_copy_id()"
    )


def build_insert_songs_sql(table: str, temp: str, fields: Sequence[tuple[str, str]]) -> str:
    """Move COPYed song records into staging_songs; source_key is the batch's manifest object."""
    cols = [c for _, c in fields]
    target = ["source_key", "line_number", *cols, LOAD_SEQ_COLUMN]
    return (
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in target)})\n"
        f"SELECT %(source_key)s, ROW_NUMBER() OVER (ORDER BY song_id, artist_id, title),\n"
        f"       {', '.join(quote_ident(c) for c in cols)}, %(load_seq)s\n"
        f"FROM {temp}"
    )


def build_delete_songs_sql(table: str, temp: str) -> str:
    """Drop staged rows of the songs about to be reloaded (COPY gives no per-row object key)."""
    return f"DELETE FROM {table} WHERE song_id IN (SELECT song_id FROM {temp})"


def _newer(new: str, old: str, columns: Sequence[str]) -> str:
    """(n1, n2, …) > (o1, o2, …) spelled out: Redshift has no row-value comparison."""
    terms = []
    for i, column in enumerate(columns):
        equal = [f"{new}.{quote_ident(c)} = {old}.{quote_ident(c)}" for c in columns[:i]]
        terms.append(" AND ".join([*equal, f"{new}.{quote_ident(column)} > {old}.{quote_ident(column)}"]))
    return " OR ".join(f"({t})" for t in terms)


def build_redshift_upsert_sql(
    table: str,
    source: str,
    columns: Sequence[str],
    key: Sequence[str],
    mode: str,
    version_columns: Sequence[str] = (),
) -> list[str]:
    """Statements merging source (a temp table) into table; the Redshift form of build_upsert_sql.

    - insert_missing: INSERT … WHERE NOT EXISTS.
    - upsert: MERGE (matched rows are updated, also when unchanged: same result, more writes).
    - upsert_latest: first drop source rows that are not newer than the stored row (Redshift's
      MERGE allows no condition on WHEN MATCHED), then MERGE — the latest version wins in any order.
    """
    updates = upsert_updates(columns, key, mode, version_columns)
    cols = ", ".join(quote_ident(c) for c in columns)
    match = " AND ".join(f"target.{quote_ident(c)} = source.{quote_ident(c)}" for c in key)
    if not updates:
        return [
            f"INSERT INTO {table} ({cols})\nSELECT {cols} FROM {source} AS source\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS target WHERE {match})"
        ]
    statements = []
    if mode == "upsert_latest":
        statements.append(
            f"DELETE FROM {source} USING {table} AS target\n"
            f"WHERE {match.replace('source.', f'{source}.')}\n"
            f"  AND NOT ({_newer(source, 'target', version_columns)})"
        )
    assignments = ", ".join(f"{quote_ident(c)} = source.{quote_ident(c)}" for c in updates)
    values = ", ".join(f"source.{quote_ident(c)}" for c in columns)
    # The target is named in full: Redshift's MERGE takes no alias for it.
    on = " AND ".join(f"{table}.{quote_ident(c)} = source.{quote_ident(c)}" for c in key)
    statements.append(
        f"MERGE INTO {table} USING {source} AS source\nON {on}\n"
        f"WHEN MATCHED THEN UPDATE SET {assignments}\n"
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
    )
    return statements


def redshift_table_ddl(statement: str) -> str:
    """Append the table's DISTKEY/SORTKEY attributes to a rendered sql/ddl statement.

    The sql/ddl files are shared with PostgreSQL (their types exist in both); only the table
    attributes after the closing parenthesis are Redshift's.
    """
    found = _CREATE_TABLE.search(statement)
    attributes = REDSHIFT_TABLE_ATTRIBUTES.get(found.group(1), "") if found else ""
    return f"{statement.rstrip()}\n{attributes}" if attributes else statement


def copy_options(settings: Mapping[str, Any] | None, conn_id: str) -> CopyOptions:
    """COPY settings from config.json's warehouse.redshift_copy; the IAM role is required.

    Why config.json and not the warehouse connection's extra: the provider's RedshiftSQLHook
    hands every extra to the driver, which refuses unknown keys; none of these is a secret.
    """
    role = (settings or {}).get("iam_role")
    if not role:
        raise ValueError(
            f"connection {conn_id!r} is a Redshift warehouse: config.json warehouse.redshift_copy.iam_role "
            "(the cluster's IAM role ARN for COPY) is required"
        )
    assert settings is not None
    return CopyOptions(
        iam_role=str(role),
        region=str(settings.get("region") or DEFAULT_REGION),
        maxerror=int(settings.get("maxerror", DEFAULT_MAXERROR)),
        jsonpaths_prefix=str(settings.get("jsonpaths_prefix") or ""),
    )


def build_copy_manifest(urls: list[str]) -> dict[str, Any]:
    """A Redshift COPY manifest: every listed object must exist (mandatory), nothing else loads."""
    return {"entries": [{"url": url, "mandatory": True} for url in urls]}
