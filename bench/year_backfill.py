"""A year of history through the real scheduler: `make backfill` of sparkify_staging over 365 days.

Why: bench.py measures what a partition costs inside the task bodies and airflow_overhead.py what
Airflow adds to a 30-day staging backfill. A user backfilling history waits for both DAGs, 365
times, on a metadata database that grows with every run and asset event. This generates 365 days
at the demo's default size, starts the stack with its default settings (scripts/env.sh, nothing
overridden), runs ``scripts/backfill.py staging FIRST LAST`` (what ``make backfill`` runs) and
waits for every staging run and every asset-triggered transform run. Then it reads the task
instances from the metadata database, loads the same data in-process (the operators'
execute(), one partition after another) into a second schema, and compares the two warehouses.

Reported (bench/results/year-<stamp>/year.csv + year.md; bench/RESULTS-year.md is the latest):
wall time and wall per partition; task instances per partition by DAG; CPU seconds per task
instance by component (psutil, the stack's process trees, as airflow_overhead.py); per-run wall,
task duration and queue latency of the first vs the last 30 partitions (metadata DB and asset
events grow in between); metadata DB size and rows at the end; warehouse == in-process load.

The stack is ISOLATED (own state dir, Postgres, Airflow port; the metadata DB is dropped first):
run it through ``make bench-year`` (``ARGS='--days 30'`` for a short run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from airflow_overhead import (
    STACK_CPU,
    add_cpu_per_task,
    check_isolated,
    component_cpu,
    cpu_times,
    drop_schema,
    metadata_url,
    postgres_running,
    recreate_metadata_db,
    sh,
    silence_scheduled_run,
)
from measurements import Measurements

from bench import Pipeline, load_generator, write_config
from sparkify.dag_ids import ROLLUP_DAG
from sparkify_stack import airflow_api
from sparkify_stack.runwatch import STAGING_DAG, TRANSFORM_DAG

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
FIRST = dt.date(2018, 11, 1)
#: The demo's data (scripts/generate_data.py's defaults, as make demo generates it).
GENERATOR_DEFAULTS = {"users": 100, "events_per_day": 300, "songs": 80, "match_share": 0.1, "seed": 42}
#: Task instances that end skipped in a clean backfill: request_rollup asks for a month's rollup
#: again only when a day of an already rolled-up month is re-published, which a backfill never does.
EXPECTED_SKIPS = {(TRANSFORM_DAG, "request_rollup", "skipped")}
TABLES_COMPARED = ("staging_events", "staging_songs", "rejected_lines", "load_manifest", "song_lookup",
                   "songplays", "users", "songs", "artists", "time")  # fmt: skip


def say(msg: str) -> None:
    print(f"[bench-year] {msg}", file=sys.stderr, flush=True)


def task_rows() -> list[dict[str, Any]]:
    """Every task instance of both DAGs with its run's partition key, from the metadata DB."""
    with psycopg.connect(metadata_url()) as conn:
        cursor = conn.execute(
            "SELECT ti.dag_id, ti.task_id, ti.map_index, ti.state, ti.try_number, dr.partition_key, dr.run_type,"
            " EXTRACT(EPOCH FROM ti.end_date - ti.start_date), EXTRACT(EPOCH FROM ti.start_date - ti.queued_dttm),"
            " EXTRACT(EPOCH FROM dr.end_date - dr.start_date), dr.start_date, dr.end_date"
            " FROM task_instance ti JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id"
            " WHERE dr.run_type IN ('backfill', 'asset_triggered')"
        )
        names = [d[0] for d in cursor.description]
        names[7:10] = ["duration", "queue_latency", "run_wall"]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def metadata_size() -> dict[str, float]:
    with psycopg.connect(metadata_url()) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("dag_run", "task_instance", "asset_event", "xcom", "log")
        }
    return {"bytes": float(size), **{k: float(v) for k, v in counts.items()}}


def checksums(schema: str) -> dict[str, str]:
    """md5 over every row of each compared table, independent of row order (tests/integration's)."""
    with psycopg.connect(os.environ["SPARKIFY_WAREHOUSE_URL"]) as conn:
        return {
            table: conn.execute(
                "SELECT md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{schema}"."{table}" t'
            ).fetchone()[0]
            for table in TABLES_COMPARED
        }


def in_process_load(config: Path, keys: list[str]) -> float:
    """The same partitions through the operators' execute(), one after another: the reference warehouse."""
    started = time.perf_counter()
    pipeline = Pipeline(config)
    for key in keys:
        pipeline.stage(key)
        pipeline.transform(key)
    return time.perf_counter() - started


def growth(results: Measurements, tis: list[dict[str, Any]], keys: list[str], window: int) -> None:
    """First vs last `window` partitions: per-run wall, task duration and queue latency, by DAG."""
    first, last = set(keys[:window]), set(keys[-window:])
    for dag, label in ((STAGING_DAG, "staging"), (TRANSFORM_DAG, "transform")):
        rows = [t for t in tis if t["dag_id"] == dag]
        for metric in ("run_wall", "duration", "queue_latency"):
            def values(keys_: set[str], rows: list[dict[str, Any]] = rows, metric: str = metric) -> list[float]:
                if metric == "run_wall":  # one value per run
                    seen = {t["partition_key"]: t["run_wall"] for t in rows if t["partition_key"] in keys_}
                    return [float(v) for v in seen.values() if v is not None]
                return [float(t[metric]) for t in rows if t["partition_key"] in keys_ and t[metric] is not None]

            a, b = statistics.median(values(first)), statistics.median(values(last))
            results.add("growth", f"{label}_{metric}_first{window}_median_s", a, "s")
            results.add("growth", f"{label}_{metric}_last{window}_median_s", b, "s")
            results.add("growth", f"{label}_{metric}_last_over_first", b / a if a else float("nan"), "x")


def report(out: Path, results: Measurements, args: argparse.Namespace) -> Path:
    """year.md from the measurements; copied to bench/RESULTS-year.md for a full year."""
    def get(section: str, name: str) -> float:
        return results.get(section, name)

    days = int(get("run", "partitions"))
    wall = get("backfill", "wall")
    verdict = "met" if wall <= 900 else "**missed**"
    lines = [
        "# Year backfill through the real scheduler (`make bench-year`)",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on commit {get_commit()}, {os.cpu_count()} CPUs: "
        f"`python bench/year_backfill.py {' '.join(sys.argv[1:])}`. How it is measured: bench/year_backfill.py.",
        "",
        "| figure | value | target |",
        "|---|---:|---|",
        f"| partitions (both DAGs, every run successful) | {days} | |",
        f"| wall: `make backfill DAG=staging` → last transform run done | {wall:,.0f} s ({wall / 60:.1f} min) | "
        f"≤ 15 min for 365 days → {verdict if days >= 365 else 'n/a (not a full year)'} |",
        f"| wall per partition | {wall / days:.2f} s | |",
        f"| task instances per partition: staging + transform | {get('tasks', 'staging_per_partition'):.0f} + "
        f"{get('tasks', 'transform_per_partition'):.0f} | |",
        f"| task instances per month: rollups | {get('tasks', 'rollups_per_month'):.0f} | |",
        f"| CPU s per task instance, whole stack | {get('cpu', 'whole_stack_per_task'):.3f} | ≤ 0.12 → "
        f"{'met' if get('cpu', 'whole_stack_per_task') <= 0.12 else '**missed**'} |",
    ]
    for name in STACK_CPU:
        lines.append(f"| … {name.replace('_', ' ')} | {get('cpu', name + '_per_task'):.3f} | |")
    lines += [
        f"| CPUs busy during the backfill | {get('cpu', 'busy_share'):.0%} | |",
        f"| warehouse identical to the in-process load of the same data | "
        f"{'yes' if get('warehouse', 'identical') else '**no**'} | must be yes |",
        "",
        f"Growth, median of the first vs the last {args.window} partitions:",
        "",
        "| | staging first | staging last | last/first | transform first | transform last | last/first |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for metric in ("run_wall", "duration", "queue_latency"):
        cells = []
        for label in ("staging", "transform"):
            a = get("growth", f"{label}_{metric}_first{args.window}_median_s")
            b = get("growth", f"{label}_{metric}_last{args.window}_median_s")
            cells += [f"{a:.2f} s", f"{b:.2f} s", f"{get('growth', f'{label}_{metric}_last_over_first'):.2f}"]
        lines.append(f"| {metric.replace('_', ' ')} | " + " | ".join(cells) + " |")
    meta = {r["name"]: r["value"] for r in results.rows if r["section"] == "metadata"}
    lines += [
        "",
        f"Metadata DB at the end: {meta['bytes'] / 2**20:,.0f} MB; "
        + ", ".join(f"{k} {v:,.0f}" for k, v in meta.items() if k != "bytes")
        + f". In-process load of the same {days} partitions (no Airflow): {get('warehouse', 'in_process_s'):,.0f} s.",
        "",
    ]
    path = out / "year.md"
    path.write_text("\n".join(lines))
    if days >= 365:
        shutil.copy(path, REPO / "bench" / "RESULTS-year.md")
    return path


def get_commit() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / f"year-{stamp}")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--window", type=int, default=30, help="first/last partitions compared")
    parser.add_argument("--timeout", type=float, default=5400)
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    args = parser.parse_args()
    check_isolated()
    args.window = min(args.window, max(1, args.days // 3))
    keys = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range(args.days)]
    work = Path(os.environ["SPARKIFY_STATE"]) / "year"
    data = work / "data"
    results = Measurements()
    started_pg = not postgres_running()
    sh(str(SCRIPTS / "postgres.sh"), "start", timeout=180)
    try:
        shutil.rmtree(data, ignore_errors=True)
        say(f"generating {args.days} days at the demo's size into {data}")
        counts = load_generator().generate(data, FIRST, FIRST + dt.timedelta(days=args.days - 1), **GENERATOR_DEFAULTS)
        results.add("run", "partitions", args.days, "days", f"{keys[0]}..{keys[-1]}")
        results.add("run", "events", counts["events"], "events", "scripts/generate_data.py defaults")
        schema, reference = "year_airflow", "year_in_process"
        env = {"SPARKIFY_SOURCE": str(data), "SPARKIFY_CONFIG": str(write_config(work / "config.json", schema, data))}
        sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
        recreate_metadata_db()
        shutil.rmtree(Path(os.environ["AIRFLOW_HOME"]) / "logs", ignore_errors=True)
        drop_schema(schema)
        os.environ.update(env)  # the stack, the airflow CLI and backfill.py read the same config and source
        sh(str(SCRIPTS / "airflow.sh"), "start", timeout=600)
        for dag in (TRANSFORM_DAG, STAGING_DAG):  # consumer first, as make demo does
            airflow_api.wait_for_dag(dag, timeout=180)
            airflow_api.unpause(dag)
        silence_scheduled_run()
        say(f"make backfill DAG=staging START={keys[0]} END={keys[-1]}")
        cpu0, parts0 = cpu_times(), component_cpu()
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(SCRIPTS / "backfill.py"), "staging", keys[0], keys[-1],
             "--timeout", str(args.timeout), "--interval", "60"],
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        cpu1, parts1 = cpu_times(), component_cpu()
        if done.returncode != 0:
            raise SystemExit(f"backfill.py exited {done.returncode}: not every run succeeded (see its output)")
        results.add("backfill", "wall", wall, "s", "backfill.py staging: created -> every transform run finished")
        results.add("backfill", "wall_per_partition", wall / args.days, "s")
        tis = task_rows()
        skipped_as_expected = [(t["dag_id"], t["task_id"], t["state"]) in EXPECTED_SKIPS for t in tis]
        expected = [t for t, ok in zip(tis, skipped_as_expected, strict=True) if ok]
        bad = [t for t, ok in zip(tis, skipped_as_expected, strict=True) if t["state"] != "success" and not ok]
        if bad:
            raise SystemExit(f"{len(bad)} task instance(s) not successful, e.g. {bad[0]}")
        per_dag = {dag: [t for t in tis if t["dag_id"] == dag] for dag in (STAGING_DAG, TRANSFORM_DAG, ROLLUP_DAG)}
        months = len({key[:7] for key in keys})
        results.add("tasks", "total", len(tis), "task instances")
        results.add("tasks", "staging_per_partition", len(per_dag[STAGING_DAG]) / args.days, "TI")
        results.add("tasks", "transform_per_partition", len(per_dag[TRANSFORM_DAG]) / args.days, "TI")
        results.add("tasks", "rollups_per_month", len(per_dag[ROLLUP_DAG]) / months, "TI", f"{months} months")
        results.add("tasks", "expected_skips", len(expected), "TI", "request_rollup: nothing to ask again")
        results.add("tasks", "retries", sum(max(0, t["try_number"] - 1) for t in tis), "tries")
        add_cpu_per_task(results, (cpu0, parts0), (cpu1, parts1), len(tis), wall)
        growth(results, tis, keys, args.window)
        for name, value in metadata_size().items():
            results.add("metadata", name, value, "bytes" if name == "bytes" else "rows")
        say("in-process load of the same data into a second schema")
        drop_schema(reference)
        seconds = in_process_load(write_config(work / "reference.json", reference, data), keys)
        results.add("warehouse", "in_process_s", seconds, "s", "stage + transform per partition, no checks")
        ours, theirs = checksums(schema), checksums(reference)
        differ = sorted(t for t in ours if ours[t] != theirs[t])
        results.add("warehouse", "identical", float(not differ), "bool", ", ".join(differ) or "every table")
    finally:
        if not args.keep:
            sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
            if started_pg:
                sh(str(SCRIPTS / "postgres.sh"), "stop", timeout=180)
    args.out.mkdir(parents=True, exist_ok=True)
    results.write_csv(args.out / "year.csv")
    say(f"wrote {report(args.out, results, args)}")
    return 0 if results.get("warehouse", "identical") else 1


if __name__ == "__main__":
    raise SystemExit(main())
