"""`make bench`: staging against the database's floor and a naive peer, and cost growth over a year.

Why: the seed reloaded everything on every run (O(N^2) over a backfill). This measures, side by
side in ONE run on the same data and the same PostgreSQL, that staging runs near what the
database can ingest and that a partition costs the same on day 365 as on day 1. Absolute
figures are noisy on a shared 2-core machine; the ratios are what the targets are about.

Writes bench/results/<timestamp>/{measurements.csv, growth_partitions.csv}; bench/report_bench.py
renders report.md, the plots and bench/RESULTS.md from them.

    python bench/bench.py                      # default (< 10 min): 1M-event partition, growth reduced
    python bench/bench.py --full               # growth: every one of 365 days staged + transformed
    python bench/bench.py --events 3000000     # bigger throughput partition
    python bench/bench.py --airflow-report DIR # add the orchestration table written by bench/airflow_overhead.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import report_bench
from measurements import Measurements, write_rows

from sparkify.source_schema import EVENT_COLUMNS, EVENT_FIELDS, EVENT_LINEAGE_COLUMNS
from sparkify.sqlfiles import render

REPO = Path(__file__).resolve().parents[1]

DAY0 = dt.date(2018, 1, 1)


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_data", REPO / "scripts" / "generate_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(path: Path, schema: str, source: Path) -> Path:
    """A copy of config.json pointing at a bench schema and source (like the integration tests)."""
    document = json.loads((REPO / "config.json").read_text())
    document["warehouse"]["schema"] = schema
    document["source"]["uri"] = str(source)
    path.write_text(json.dumps(document))
    return path


def stage_in_subprocess(config: Path, partition: str) -> dict[str, Any]:
    """Run the staging operator alone in a fresh process: its time and its own peak RSS."""
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "stage_worker.py"), "--config", str(config), "--partition", partition],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 1. throughput


def stage_from_local_s3(args: argparse.Namespace, root: Path, work: Path, partition: str) -> dict[str, Any] | None:
    """Stage the same partition from the local S3 server (real HTTP + SigV4), when it runs.

    make bench starts it (scripts/s3.sh); without SPARKIFY_S3_ENDPOINT the S3 row is left out
    of the report rather than measured against something else.
    """
    endpoint = os.environ.get("SPARKIFY_S3_ENDPOINT")
    if not endpoint:
        print("[throughput] SPARKIFY_S3_ENDPOINT not set: S3 staging not measured", file=sys.stderr)
        return None
    uri = "s3://sparkify-bench/throughput"
    subprocess.run([sys.executable, str(REPO / "scripts" / "s3_upload.py"), str(root), uri], check=True)
    config = write_config(work / "throughput-s3.json", "bench_tp_s3", root)
    document = json.loads(config.read_text())
    document["source"]["uri"] = uri
    config.write_text(json.dumps(document))
    runs = []
    for _ in range(args.repeat):  # best of repeat, like the folder runs; each on an empty schema
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS bench_tp_s3 CASCADE")
        result = stage_in_subprocess(config, partition)
        assert result["rows"] == args.events, result
        runs.append(result)
    return min(runs, key=lambda r: r["seconds"])


def profile_staging(url: str, path: Path, lines_wanted: int = 200_000) -> dict[str, float]:
    """Microseconds per row of each step of our staging path, on the same partition's first lines.

    The profile behind ours/floor and ours/naive: the Python steps run on one core (split,
    parse + validate, binary COPY encoding) while PostgreSQL ingests on another; "postgres_copy"
    is the server alone, fed the already-encoded binary stream.
    """
    from psycopg._copy_base import BinaryFormatter
    from psycopg.adapt import Transformer

    from sparkify.parsing import EVENT_COLUMNS, iter_lines, parse_events
    from sparkify.warehouse.postgres import PostgresWarehouse
    from sparkify.warehouse.sql import build_copy_sql

    with path.open("rb") as handle:
        data = b"".join(handle.readline() for _ in range(lines_wanted))
    chunks = [data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)]
    timings: dict[str, float] = {}

    def best(name: str, fn: Any) -> Any:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            result = fn()
            runs.append(time.perf_counter() - start)
        timings[name] = min(runs)
        return result

    lines = best("split_lines", lambda: list(iter_lines(chunks)))
    rows = best("parse_validate", lambda: list(parse_events("2018-11-01", "k", lines, [])))
    n = len(rows)
    with psycopg.connect(url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_profile CASCADE")
        conn.execute("CREATE SCHEMA bench_profile")
        conn.execute(render("ddl/staging_events.sql", this="bench_profile.staging_events"))
        with conn.cursor() as cursor:
            types = PostgresWarehouse._column_types(cursor, "bench_profile.staging_events", EVENT_COLUMNS)
        conn.commit()

        def encode() -> bytes:
            transformer = Transformer()
            transformer.set_dumper_types(types, psycopg.pq.Format.BINARY)
            formatter = BinaryFormatter(transformer)
            return b"".join([*(bytes(formatter.write_row(r)) for r in rows), bytes(formatter.end())])

        stream = best("binary_encode", encode)

        def server_copy() -> None:
            conn.execute("TRUNCATE bench_profile.staging_events")
            conn.commit()
            start = time.perf_counter()
            sql = build_copy_sql("bench_profile.staging_events", EVENT_COLUMNS, binary=True)
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for i in range(0, len(stream), 1 << 20):
                    copy.write(stream[i : i + (1 << 20)])
            conn.commit()
            timings.setdefault("_copy_runs", []).append(time.perf_counter() - start)  # type: ignore[union-attr]

        for _ in range(3):
            server_copy()
        timings["postgres_copy"] = min(timings.pop("_copy_runs"))  # type: ignore[type-var]
        conn.execute("DROP SCHEMA bench_profile CASCADE")
        conn.commit()
    return {name: seconds / n * 1e6 for name, seconds in timings.items()}


def floor_copy(url: str, path: Path, persistence: str) -> float:
    """Seconds to COPY the file's raw lines into a one-column text table (the ingest limit)."""
    unlogged = "UNLOGGED " if persistence == "u" else ""
    with psycopg.connect(url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE")
        conn.execute("CREATE SCHEMA bench_floor")
        conn.execute(f"CREATE {unlogged}TABLE bench_floor.raw_lines (line text)")
        conn.commit()
        start = time.perf_counter()
        # CSV with delimiter/quote bytes that JSON never contains: every line arrives verbatim.
        copy_sql = "COPY bench_floor.raw_lines (line) FROM STDIN (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
        with conn.cursor() as cur, cur.copy(copy_sql) as copy, path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP SCHEMA bench_floor CASCADE")
        conn.commit()
    return seconds


def naive_pandas(url: str, path: Path) -> float:
    """pandas.read_json(lines=True) + to_sql: what a typical user writes. Seconds for the file."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS bench_naive CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA bench_naive")
    start = time.perf_counter()
    frame = pd.read_json(path, lines=True)
    frame.to_sql("events", engine, schema="bench_naive", if_exists="append", index=False)
    seconds = time.perf_counter() - start
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA bench_naive CASCADE")
    engine.dispose()
    return seconds


def naive_executemany(url: str, path: Path, staging_ddl: str) -> float:
    """json.loads per line + cursor.executemany(INSERT) into the staging table's shape. Seconds."""
    fields = [field.json for field in EVENT_FIELDS]
    columns = (*EVENT_LINEAGE_COLUMNS, *(field.column for field in EVENT_FIELDS))
    with psycopg.connect(url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_naive CASCADE")
        conn.execute("CREATE SCHEMA bench_naive")
        conn.execute(staging_ddl)
        conn.commit()
        start = time.perf_counter()
        rows = []
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                record = json.loads(line)
                rows.append(("2018-11-02", "naive", number, 1, *(record.get(f) for f in fields)))
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO bench_naive.staging_events ({', '.join(columns)}) VALUES ({placeholders})"
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP SCHEMA bench_naive CASCADE")
        conn.commit()
    return seconds


def bench_throughput(args: argparse.Namespace, results: Measurements, work: Path) -> None:
    gen = load_generator()
    big, small = dt.date(2018, 11, 1), dt.date(2018, 11, 2)
    root = work / "throughput"
    t0 = time.perf_counter()
    gen.generate(root, big, big, users=2000, events_per_day=args.events, songs=500, match_share=0.1, seed=1)
    gen.generate(root, small, small, users=2000, events_per_day=args.naive_events, songs=500, match_share=0.1, seed=1)
    results.add("setup", "generate_throughput_data", time.perf_counter() - t0, "s")
    big_path = root / "log_data/2018/11/2018-11-01-events.json"
    small_path = root / "log_data/2018/11/2018-11-02-events.json"
    big_mb, small_mb = big_path.stat().st_size / 1e6, small_path.stat().st_size / 1e6
    config = write_config(work / "throughput.json", "bench_tp", root)
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_tp CASCADE")

    ours_runs, floor_runs = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same background load
        result = stage_in_subprocess(config, big.isoformat())
        assert result["rows"] == args.events, result
        ours_runs.append(result)
        with psycopg.connect(args.url) as conn:
            persistence = conn.execute(
                "SELECT relpersistence FROM pg_class WHERE oid = 'bench_tp.staging_events'::regclass"
            ).fetchone()[0]
        floor_runs.append(floor_copy(args.url, big_path, persistence))
    ours = min(r["seconds"] for r in ours_runs)
    floor = min(floor_runs)
    s3 = stage_from_local_s3(args, root, work, big.isoformat())
    small_result = stage_in_subprocess(config, small.isoformat())
    staging_ddl = render("ddl/staging_events.sql", this="bench_naive.staging_events")
    pandas_s = naive_pandas(args.url, small_path)
    many_s = naive_executemany(args.url, small_path, staging_ddl)

    n, m = args.events, args.naive_events
    results.add("throughput", "partition_events", n, "rows", f"{big_mb:.0f} MB")
    results.add("throughput", "floor_rows_per_s", n / floor, "rows/s", "COPY raw lines, 1-col text table")
    results.add("throughput", "floor_mb_per_s", big_mb / floor, "MB/s")
    results.add("throughput", "ours_rows_per_s", n / ours, "rows/s", "StageEventsOperator.execute, folder")
    results.add("throughput", "ours_mb_per_s", big_mb / ours, "MB/s")
    results.add("throughput", "ours_runs_s", statistics.median(r["seconds"] for r in ours_runs), "s", "median")
    results.add("throughput", "ours_small_rows_per_s", m / small_result["seconds"], "rows/s", f"{m} events")
    results.add("throughput", "naive_pandas_rows_per_s", m / pandas_s, "rows/s", "read_json+to_sql, 100k slice")
    results.add("throughput", "naive_pandas_mb_per_s", small_mb / pandas_s, "MB/s")
    results.add("throughput", "naive_executemany_rows_per_s", m / many_s, "rows/s", "json.loads+executemany")
    results.add("throughput", "naive_executemany_mb_per_s", small_mb / many_s, "MB/s")
    results.add("throughput", "ratio_ours_floor", floor / ours, "x", "target >= 0.5")
    if s3 is not None:
        s3_detail = "StageEventsOperator.execute, local S3"
        results.add("throughput", "ours_s3_rows_per_s", n / s3["seconds"], "rows/s", s3_detail)
        results.add("throughput", "ours_s3_mb_per_s", big_mb / s3["seconds"], "MB/s")
        results.add("throughput", "ratio_ours_s3_floor", floor / s3["seconds"], "x", "target >= 0.5")
    results.add("throughput", "ratio_floor_pandas", pandas_s / m * n / floor, "x", "upper bound of ours/naive")
    results.add("throughput", "ratio_ours_pandas", pandas_s / m * n / ours, "x", "target >= 10")
    results.add("throughput", "ratio_ours_executemany", many_s / m * n / ours, "x")
    profile = profile_staging(args.url, big_path)
    for step, micros in profile.items():
        where = "PostgreSQL alone" if step == "postgres_copy" else "Python, one core"
        results.add("profile", f"{step}_us_per_row", micros, "us/row", f"{where}; first 200k lines")
    python_side = sum(v for k, v in profile.items() if k != "postgres_copy")
    results.add("profile", "python_side_us_per_row", python_side, "us/row", "split + parse + encode")
    results.add("profile", "floor_us_per_row", floor / n * 1e6, "us/row", "the floor, per row")
    results.add("memory", "peak_rss_stage_mb_large", max(r["maxrss_mb"] for r in ours_runs), "MB", f"{n} events")
    results.add("memory", "peak_rss_stage_mb_small", small_result["maxrss_mb"], "MB", f"{m} events")
    results.add("memory", "rss_after_imports_mb", small_result["rss_before_execute_mb"], "MB", "Airflow + sparkify")
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_tp CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS bench_tp_s3 CASCADE")


# --------------------------------------------------------------------------- 2. cost growth


class Pipeline:
    """Runs partitions in-process exactly as the DAG tasks do (operators' execute())."""

    def __init__(self, config: Path) -> None:
        from sparkify.config import load_config
        from sparkify.operators.check import DataQualityCheckOperator
        from sparkify.operators.ensure_schema import EnsureSchemaOperator
        from sparkify.operators.load_dimension import LoadDimensionOperator
        from sparkify.operators.load_fact import LoadFactOperator
        from sparkify.operators.stage_events import StageEventsOperator
        from sparkify.operators.stage_songs import StageSongsOperator

        self.path = str(config)
        self.config = load_config(config)
        self.ops = (StageEventsOperator, LoadFactOperator, LoadDimensionOperator, DataQualityCheckOperator)
        EnsureSchemaOperator(task_id="ensure_schema", config_path=self.path).execute({})
        self.songs_operator = StageSongsOperator
        self.stage_songs()

    def stage_songs(self) -> dict[str, Any]:
        """Stage the new or changed song objects (the staging DAG's stage_songs task)."""
        return self.songs_operator(task_id="stage_songs", config_path=self.path).execute({})

    def stage(self, key: str) -> float:
        start = time.perf_counter()
        self.ops[0](task_id="stage_events", partition_key=key, config_path=self.path).execute({})
        return time.perf_counter() - start

    def transform(self, key: str) -> float:
        """Seconds for the fact and every dimension; per-step seconds land in self.steps."""
        start = time.perf_counter()
        self.ops[1](task_id="load_fact", partition_key=key, config_path=self.path).execute({})
        self.steps = {"fact": time.perf_counter() - start}
        for kwargs in self.config.dimension_kwargs():
            began = time.perf_counter()
            self.ops[2](task_id="dim", partition_key=key, config_path=self.path, **kwargs).execute({})
            self.steps[kwargs["name"]] = time.perf_counter() - began
        return time.perf_counter() - start

    def checks(self, key: str) -> float:
        """Seconds for every check; per-check seconds land in self.check_steps."""
        start = time.perf_counter()
        self.check_steps: dict[str, float] = {}
        for kwargs in self.config.check_kwargs():
            began = time.perf_counter()
            self.ops[3](task_id="check", partition_key=key, config_path=self.path, **kwargs).execute({})
            self.check_steps[kwargs["name"]] = time.perf_counter() - began
        return time.perf_counter() - start


def clone_days(url: str, schema: str, source_days: list[str], first_target: dt.date, count: int) -> None:
    """Fill `count` days from first_target on by copying already loaded days with shifted dates.

    The default run's shortcut for the middle of the year: staging_events, songplays, users and
    time then hold as many rows (and index entries) as after a real 365-day load, without
    generating and parsing 6M more events. Every key stays unique (ts, partition_key and
    songplay_id move with the date).
    """
    s = f'"{schema}"'
    with psycopg.connect(url) as conn:
        for i in range(count):
            target = first_target + dt.timedelta(days=i)
            source = source_days[i % len(source_days)]
            shift_ms = (target - dt.date.fromisoformat(source)).days * 86_400_000
            params = {"src": source, "dst": target.isoformat(), "shift": shift_ms}  # cast: one type per param
            moved = {  # every other column is copied as it is
                "partition_key": "%(dst)s::varchar",
                "source_key": "replace(source_key, %(src)s::varchar, %(dst)s::varchar)",
                "ts": "ts + %(shift)s::bigint",
            }
            conn.execute(
                f"INSERT INTO {s}.staging_events ({', '.join(EVENT_COLUMNS)})"
                f" SELECT {', '.join(moved.get(c, c) for c in EVENT_COLUMNS)}"
                f" FROM {s}.staging_events WHERE partition_key = %(src)s::varchar",
                params,
            )
            conn.execute(
                f"INSERT INTO {s}.songplays SELECT md5(songplay_id || %(dst)s::varchar), %(dst)s::varchar,"
                " start_time + %(shift)s::bigint * INTERVAL '1 millisecond', user_id, level, song_id, artist_id,"
                f" session_id, location, user_agent FROM {s}.songplays WHERE partition_key = %(src)s::varchar",
                params,
            )
            conn.execute(
                f"INSERT INTO {s}.time SELECT DISTINCT start_time, EXTRACT(HOUR FROM start_time),"
                " EXTRACT(DAY FROM start_time), EXTRACT(WEEK FROM start_time), EXTRACT(MONTH FROM start_time),"
                f" EXTRACT(YEAR FROM start_time), EXTRACT(DOW FROM start_time) FROM {s}.songplays"
                " WHERE partition_key = %(dst)s::varchar ON CONFLICT DO NOTHING",
                params,
            )
        conn.commit()
    # What autovacuum would have done over a real year, done now: without it the insert-triggered
    # autovacuum of 6M cloned rows runs during the last-30 measurements and bills them for it.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {s}.staging_events, {s}.songplays, {s}.time, {s}.users")


def seed_full_reload(url: str, schema: str) -> tuple[float, int]:
    """The seed's design, modelled: every run truncates staging and reloads all days.

    Measured as TRUNCATE + INSERT ... SELECT of every staged row from a side copy: no parsing at
    all, so it is a lower bound of the seed's per-run cost. Returns (seconds, rows).
    """
    s = f'"{schema}"'
    with psycopg.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {s}.seed_copy")
        conn.execute(f"CREATE TABLE {s}.seed_copy AS SELECT * FROM {s}.staging_events")
        conn.commit()
        start = time.perf_counter()
        conn.execute(f"TRUNCATE {s}.staging_events")
        cur = conn.execute(f"INSERT INTO {s}.staging_events SELECT * FROM {s}.seed_copy")
        conn.commit()
        seconds = time.perf_counter() - start
        rows = cur.rowcount
        conn.execute(f"DROP TABLE {s}.seed_copy")
        conn.commit()
    return seconds, rows


def growth_ratios(results: Measurements, timeline: list[dict[str, Any]]) -> None:
    """last-30 / first-30 per-partition cost, by median and by minimum.

    Why both: on a shared machine the background load changes between the first and the last
    30 partitions (minutes apart); the minimum of 30 runs is the least load-sensitive estimate of
    what a partition costs, the median shows what it cost under the load of the run.
    """
    steps = [k for k in timeline[0] if k.startswith("transform_") and k != "transform_s"]
    for metric in ("stage_s", "transform_s", "checks_s", *steps):
        first = [r[metric] for r in timeline if r["phase"] == "first" and r.get(metric) is not None]
        last = [r[metric] for r in timeline if r["phase"] == "last" and r.get(metric) is not None]
        name = metric.removesuffix("_s")
        note = "target <= 1.25" if name in ("stage", "transform") else ""
        for stat, fn in (("median", statistics.median), ("min", min)):
            a, b = fn(first), fn(last)
            results.add("growth", f"{name}_first30_{stat}_s", a, "s")
            results.add("growth", f"{name}_last30_{stat}_s", b, "s")
            results.add("growth", f"{name}_last_over_first_{stat}", b / a, "x", note)


def bench_growth(args: argparse.Namespace, results: Measurements, work: Path) -> list[dict[str, Any]]:
    gen = load_generator()
    days = [DAY0 + dt.timedelta(days=i) for i in range(args.days)]
    first, last = days[: args.window], days[-args.window :]
    middle = days[args.window : -args.window]
    root = work / "growth"
    ranges = [(days[0], days[-1])] if args.full else [(first[0], first[-1]), (last[0], last[-1])]
    t0 = time.perf_counter()
    for start, end in ranges:  # each day is generated from (seed, date): ranges give identical files
        gen.generate(root, start, end, users=5000, events_per_day=args.events_per_day, songs=2000,
                     match_share=0.1, seed=7)  # fmt: skip
    generated = sum((end - start).days + 1 for start, end in ranges)
    results.add("setup", "generate_growth_data", time.perf_counter() - t0, "s", f"{generated} days")
    schema = "bench_growth"
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    pipeline = Pipeline(write_config(work / "growth.json", schema, root))
    timeline: list[dict[str, Any]] = []

    def run(day: dt.date, phase: str, checks: bool) -> None:
        key = day.isoformat()
        row = {"day": (day - DAY0).days + 1, "partition": key, "phase": phase}
        row["stage_s"] = pipeline.stage(key)
        row["transform_s"] = pipeline.transform(key)
        row.update({f"transform_{step}_s": seconds for step, seconds in pipeline.steps.items()})
        row["checks_s"] = pipeline.checks(key) if checks else None
        timeline.append(row)

    for day in first:
        run(day, "first", True)
    seed30, rows30 = seed_full_reload(args.url, schema)
    t0 = time.perf_counter()
    if args.full:
        for day in middle:
            run(day, "middle", False)
        how = "staged + transformed per partition"
    else:
        clone_days(args.url, schema, [d.isoformat() for d in first], middle[0], len(middle))
        how = "cloned from days 1-30 by SQL with shifted dates"
    results.add("growth", "middle_load_s", time.perf_counter() - t0, "s", f"{len(middle)} days {how}")
    for day in last:
        run(day, "last", True)
    seed365, rows365 = seed_full_reload(args.url, schema)
    with psycopg.connect(args.url) as conn:
        total = conn.execute(f"SELECT count(*), count(DISTINCT partition_key) FROM {schema}.staging_events").fetchone()
        plays = conn.execute(f"SELECT count(*) FROM {schema}.songplays").fetchone()[0]
    results.add("growth", "staging_rows_at_end", total[0], "rows", f"{total[1]} partitions")
    results.add("growth", "songplays_rows_at_end", plays, "rows")
    growth_ratios(results, timeline)
    results.add("growth", "seed_full_reload_day30_s", seed30, "s", f"{rows30} rows, no parsing (lower bound)")
    results.add("growth", "seed_full_reload_day365_s", seed365, "s", f"{rows365} rows, no parsing (lower bound)")
    results.add("growth", "seed_day365_over_day30", seed365 / seed30, "x")
    ours_last = statistics.median(r["stage_s"] for r in timeline if r["phase"] == "last")
    results.add("growth", "seed_day365_over_ours_day365", seed365 / ours_last, "x", "per-run staging cost")
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return timeline


# --------------------------------------------------------------------------- 3. catalogue size


def write_catalogue(root: Path, songs: int, per_file: int = 1000, start: int = 0) -> int:
    """Extra catalogue songs (never played) as JSON-lines files of per_file songs; returns files written.

    Titles, artists and durations are all distinct from the played songs, so the extra songs
    only make the catalogue bigger; 2,000 artists per 100,000 songs, as in a real catalogue.
    Under song_data/0/, listed before the generated catalogue (song_data/A-Z/...): staging then
    ends with the same last batch (the generated songs) in both catalogues, so the per-partition
    ratio measures the catalogue's size and not the size of its latest batch, which the song
    conflict check reads (<= SONG_BATCH_ROWS rows; with the extra files listed last it was a
    20,000-song batch of them against the small catalogue's 500).
    """
    files = 0
    for first in range(start, start + songs, per_file):
        path = root / "song_data" / "0" / f"catalogue-{first:08d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="ascii") as handle:
            for i in range(first, min(first + per_file, start + songs)):
                artist = i // 50
                handle.write(json.dumps({
                    "num_songs": 1, "artist_id": f"ARZ{artist:015d}", "artist_latitude": None,
                    "artist_longitude": None, "artist_location": "", "artist_name": f"Catalogue artist {artist}",
                    "song_id": f"SOZ{i:015d}", "title": f"Catalogue song {i}", "duration": 100 + (i % 997) / 7,
                    "year": 2000,
                }) + "\n")  # fmt: skip
        files += 1
    return files


def bench_catalogue(args: argparse.Namespace, results: Measurements, work: Path) -> None:
    """Per-partition cost with a small and a large song catalogue (issue 14 item 5).

    The same generated days (events matching the generated songs) are staged and transformed
    with the generated catalogue alone, and again after args.catalogue_songs extra songs were
    staged: the per-partition transform (fact + dimensions) and checks must not grow with the
    catalogue. Then the same new song files are staged into each: what that costs follows the
    new files, plus the listing and manifest read, which follow the number of song objects.
    """
    gen = load_generator()
    first = DAY0
    days = [first + dt.timedelta(days=i) for i in range(args.catalogue_days)]
    check_medians: dict[str, dict[str, float]] = {}  # label -> check -> median seconds per partition
    for label, extra in (("small", 0), ("large", args.catalogue_songs)):
        root = work / f"catalogue-{label}"
        gen.generate(root, days[0], days[-1], users=500, events_per_day=args.catalogue_events_per_day,
                     songs=1000, match_share=0.5, seed=11)  # fmt: skip
        t0 = time.perf_counter()
        files = write_catalogue(root, extra) if extra else 0
        results.add("catalogue", f"{label}_generate_s", time.perf_counter() - t0, "s", f"{extra} extra songs")
        schema = f"bench_catalogue_{label}"
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        t0 = time.perf_counter()
        pipeline = Pipeline(write_config(work / f"catalogue-{label}.json", schema, root))
        results.add("catalogue", f"{label}_initial_songs_stage_s", time.perf_counter() - t0, "s",
                    f"{1000 + extra} songs in {files + 1000} objects")  # fmt: skip
        with psycopg.connect(args.url) as conn:
            songs = conn.execute(f"SELECT count(*) FROM {schema}.staging_songs").fetchone()[0]
        results.add("catalogue", f"{label}_catalogue_songs", songs, "rows")
        transform, checks, staging = [], [], []
        per_check: dict[str, list[float]] = {}
        for i, day in enumerate(days):
            key = day.isoformat()
            staging.append(pipeline.stage(key))
            transform.append(pipeline.transform(key))
            checks.append(pipeline.checks(key))
            if i > 0:
                for name, seconds in pipeline.check_steps.items():
                    per_check.setdefault(name, []).append(seconds)
            if i == 0:  # the first partition merges the whole catalogue into songs and artists
                results.add("catalogue", f"{label}_first_partition_transform_s", transform[-1], "s",
                            "includes merging every staged song and artist once")  # fmt: skip
        for name, values in (("stage", staging[1:]), ("transform", transform[1:]), ("checks", checks[1:])):
            results.add("catalogue", f"{label}_{name}_median_s", statistics.median(values), "s",
                        f"median of partitions 2-{len(days)}")  # fmt: skip
        check_medians[label] = {name: statistics.median(values) for name, values in per_check.items()}
        # New song files into an existing catalogue: the batch's own work plus listing the objects.
        new_root = root / "song_data" / "N"
        for i in range(args.catalogue_new_files):
            path = new_root / f"new-{i:05d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({
                "num_songs": 1, "artist_id": f"ARNEW{i % 10:011d}", "artist_latitude": None, "artist_longitude": None,
                "artist_location": "", "artist_name": f"New artist {i % 10}", "song_id": f"SONEW{i:011d}",
                "title": f"New song {i}", "duration": 180.0 + i, "year": 2019}) + "\n")  # fmt: skip
        t0 = time.perf_counter()
        staged = pipeline.stage_songs()
        results.add("catalogue", f"{label}_stage_new_songs_s", time.perf_counter() - t0, "s",
                    f"{staged['objects_loaded']} new of {staged['objects_listed']} listed objects")  # fmt: skip
        t0 = time.perf_counter()
        pipeline.transform(days[-1].isoformat())
        results.add("catalogue", f"{label}_transform_after_new_songs_s", time.perf_counter() - t0, "s",
                    "merges the new songs and their artists")  # fmt: skip
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    for name in ("transform", "checks", "stage", "stage_new_songs"):
        suffix = "" if name == "stage_new_songs" else "_median"
        small = results.get("catalogue", f"small_{name}{suffix}_s")
        large = results.get("catalogue", f"large_{name}{suffix}_s")
        note = "target <= 1.25" if name in ("transform", "checks") else ""
        results.add("catalogue", f"{name}_large_over_small", large / small, "x", note)
    # The checks that grew most with the catalogue, by the seconds they added per partition.
    added = {name: check_medians["large"][name] - small for name, small in check_medians["small"].items()}
    for name, seconds in sorted(added.items(), key=lambda item: -item[1])[:3]:
        small = check_medians["small"][name]
        results.add("catalogue", f"check_{name}_added_s", seconds, "s", f"large - small median; small {small:.3g} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SPARKIFY_WAREHOUSE_URL"))
    parser.add_argument("--events", type=int, default=1_000_000, help="throughput partition size")
    parser.add_argument("--naive-events", type=int, default=100_000, help="slice for the naive peers and small RSS")
    parser.add_argument("--repeat", type=int, default=2, help="ours/floor repetitions (best is kept)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--window", type=int, default=30, help="first/last partitions measured")
    parser.add_argument("--events-per-day", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="stage + transform every day (no cloning)")
    parser.add_argument("--sections", default="throughput,growth,catalogue")
    parser.add_argument("--catalogue-songs", type=int, default=1_000_000, help="extra songs of the large catalogue")
    parser.add_argument("--catalogue-days", type=int, default=6, help="partitions per catalogue size")
    parser.add_argument("--catalogue-events-per-day", type=int, default=2_000)
    parser.add_argument("--catalogue-new-files", type=int, default=100, help="song files added to each catalogue")
    parser.add_argument(
        "--airflow-report", help="directory holding airflow.md from bench/airflow_overhead.py (default: newest)"
    )
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/sparkify-bench-data"))
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args()
    if not args.url:
        parser.error("--url or SPARKIFY_WAREHOUSE_URL (source scripts/env.sh) is required")
    started = time.perf_counter()
    out = REPO / "bench" / "results" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True)
    args.work.mkdir(parents=True, exist_ok=True)
    results, timeline = Measurements(), []
    sections = set(args.sections.split(","))
    try:
        if "throughput" in sections:
            bench_throughput(args, results, args.work)
        if "growth" in sections:
            timeline = bench_growth(args, results, args.work)
        if "catalogue" in sections:
            bench_catalogue(args, results, args.work)
    finally:
        if not args.keep_data:
            data = [args.work / "throughput", args.work / "growth", *args.work.glob("catalogue-*")]
            subprocess.run(["rm", "-rf", *(str(p) for p in data)], check=False)
    results.add("run", "wall_time", time.perf_counter() - started, "s")
    results.add("run", "full", float(args.full), "bool", "growth: every day staged + transformed")
    results.add("run", "command", 0.0, "", f"python bench/bench.py {' '.join(sys.argv[1:])}".strip())
    results.write_csv(out / "measurements.csv")
    if timeline:
        write_rows(out / "growth_partitions.csv", timeline)
    print(f"report: {report_bench.render(out, args.airflow_report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
