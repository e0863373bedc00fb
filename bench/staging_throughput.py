"""Staging throughput: parse JSON in Python + COPY rows, versus COPY raw lines + parse in SQL.

Issue 3 asks to stream through COPY and to parse "in Python or in SQL, whichever is
fastest". This measures both on the same generated partition and the same PostgreSQL, in one
run, and prints rows/s for each and their ratio.

    python bench/staging_throughput.py --events 200000   (needs SPARKIFY_TEST_WAREHOUSE_URL or --url)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import tempfile
import time
from pathlib import Path

import psycopg

from sparkify.parsing import EVENT_COLUMNS, iter_lines, parse_events
from sparkify.sources import FolderSource
from sparkify.sqlfiles import render
from sparkify.warehouse.sql import build_copy_sql

REPO = Path(__file__).resolve().parents[1]

SQL_PARSE = """
INSERT INTO bench.staging_events ({columns})
SELECT %(pk)s, %(key)s, line_number,
       j->>'artist', j->>'auth', j->>'firstName', j->>'gender', (j->>'itemInSession')::int, j->>'lastName',
       (j->>'length')::float8, j->>'level', j->>'location', j->>'method', j->>'page',
       (j->>'registration')::float8, (j->>'sessionId')::int, j->>'song', (j->>'status')::int,
       (j->>'ts')::bigint, j->>'userAgent', j->>'userId', j->>'artist', j->>'song'
FROM (SELECT line_number, raw::jsonb AS j FROM raw_lines OFFSET 0) parsed  -- OFFSET 0: cast once per row
"""


def generate(events: int, out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("generate_data", REPO / "scripts" / "generate_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    day = dt.date(2018, 11, 1)
    module.generate(out, day, day, users=2000, events_per_day=events, songs=500, match_share=0.1, seed=1)
    return out


def reset(conn: psycopg.Connection) -> None:
    conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
    conn.execute("CREATE SCHEMA bench")
    conn.execute(render("ddl/staging_events.sql", this="bench.staging_events"))
    conn.commit()


def python_parse(conn: psycopg.Connection, source: FolderSource, key: str) -> int:
    rejected: list = []
    n = 0
    with conn.cursor() as cur, cur.copy(build_copy_sql("bench.staging_events", EVENT_COLUMNS)) as copy:
        for row in parse_events("2018-11-01", key, iter_lines(source.read(key)), rejected):
            copy.write_row(row)
            n += 1
    conn.commit()
    return n


def sql_parse(conn: psycopg.Connection, source: FolderSource, key: str) -> int:
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE raw_lines (line_number int, raw text) ON COMMIT DROP")
        with cur.copy("COPY raw_lines (line_number, raw) FROM STDIN") as copy:
            for number, line in enumerate(iter_lines(source.read(key)), start=1):
                copy.write_row((number, line.decode("utf-8")))
        cur.execute(SQL_PARSE.format(columns=", ".join(EVENT_COLUMNS)), {"pk": "2018-11-01", "key": key})
        n = cur.rowcount
    conn.commit()
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--url", default=os.environ.get("SPARKIFY_TEST_WAREHOUSE_URL"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.url:
        parser.error("--url or SPARKIFY_TEST_WAREHOUSE_URL is required")
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(args.events, Path(tmp))
        source = FolderSource(str(root))
        key = source.list("log_data/2018/11/2018-11-01")[0].key
        size_mb = (root / key).stat().st_size / 1e6
        results: dict[str, float] = {}
        with psycopg.connect(args.url) as conn:
            for name, method in (("python_parse_copy_rows", python_parse), ("copy_raw_parse_in_sql", sql_parse)):
                best = float("inf")
                for _ in range(args.repeat):
                    reset(conn)
                    start = time.perf_counter()
                    rows = method(conn, source, key)
                    best = min(best, time.perf_counter() - start)
                    assert rows == args.events, (name, rows)
                results[name] = args.events / best
                rate = results[name]
                print(f"{name:24s} {args.events:>9d} rows {size_mb:7.1f} MB  {best:6.2f} s  {rate:>10,.0f} rows/s")
            conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
            conn.commit()
    ratio = results["python_parse_copy_rows"] / results["copy_raw_parse_in_sql"]
    print(f"python/sql throughput ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
