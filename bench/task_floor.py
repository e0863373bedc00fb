"""Airflow's own cost per task instance on this stack: task instances that do nothing.

Why: issue 14 asks for ≤ 0.12 CPU s per task instance across the whole stack. bench-year
measures ours; this measures the floor under it — the same stack, settings and executor
(scripts/env.sh defaults), with the project taken out: a DAG folder holding one DAG whose mapped
task does nothing (no XCom, no template, no connection) and an empty plugins folder. What a
no-op task instance costs here, no pipeline code can go below.

Run through ``make bench-floor`` (isolated stack: state /var/tmp/sf-floor, Postgres 55540,
Airflow 8197; the metadata DB is dropped first). It triggers ``--runs`` runs (default 30) of
``--tasks`` mapped task instances each (default 38, the task instances of one Sparkify day:
11 staging + 27 transform), ``max_active_runs=4`` as the Sparkify DAGs, waits for all of them
and reports wall time and CPU seconds per task instance by component (bench/results/floor-<stamp>/
floor.csv + floor.md; bench/RESULTS-floor.md is the latest).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from airflow_overhead import (
    STACK_CPU,
    add_cpu_per_task,
    check_isolated,
    component_cpu,
    cpu_times,
    metadata_url,
    recreate_metadata_db,
    sh,
)
from measurements import Measurements

from sparkify_stack import airflow_api

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
DAG_ID = "task_floor"
#: The DAG: one mapped task that does nothing and pushes no XCom.
DAG_FILE = '''
import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="{dag_id}", schedule=None, start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
         catchup=False, max_active_runs=4):
    @task(do_xcom_push=False)
    def noop(i: int) -> None:
        """Nothing: what is measured is the task instance around it."""

    noop.expand(i=list(range({tasks})))
'''


def say(msg: str) -> None:
    print(f"[bench-floor] {msg}", file=sys.stderr, flush=True)


def states() -> dict[str, int]:
    with psycopg.connect(metadata_url()) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM task_instance WHERE dag_id = %s GROUP BY state", (DAG_ID,))
        return {str(state): count for state, count in rows}


def run_states() -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in airflow_api.list_dag_runs(DAG_ID):
        counts[run["state"]] = counts.get(run["state"], 0) + 1
    return counts


def report(out: Path, results: Measurements, args: argparse.Namespace) -> Path:
    def get(section: str, name: str) -> float:
        return float(results.get(section, name))

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Airflow's cost per task instance on this stack (`make bench-floor`)",
        "",
        f"Run {stamp} on commit {commit.stdout.strip()}, {os.cpu_count()} CPUs: `python bench/task_floor.py "
        f"--runs {args.runs} --tasks {args.tasks}`. How it is measured: bench/task_floor.py.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| runs x task instances (no-op mapped task, no XCom, empty plugins folder) | {args.runs} x {args.tasks} |",
        f"| wall: first run triggered → last run done | {get('floor', 'wall'):,.1f} s |",
        f"| CPU s per task instance, whole stack | {get('cpu', 'whole_stack_per_task'):.3f} |",
        *(f"| … {name.replace('_', ' ')} | {get('cpu', f'{name}_per_task'):.3f} |" for name in STACK_CPU),
        f"| CPUs busy | {get('cpu', 'busy_share'):.0%} |",
        "",
        "Issue 14's target is ≤ 0.12 CPU s per task instance for the pipeline's own task instances "
        "(bench/RESULTS-year.md); this is the same stack with nothing of the pipeline in it.",
        "",
    ]
    path = out / "floor.md"
    path.write_text("\n".join(lines))
    shutil.copy(path, REPO / "bench" / "RESULTS-floor.md")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / f"floor-{stamp}")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=38)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    check_isolated()
    work = Path(os.environ["SPARKIFY_STATE"]) / "floor"
    shutil.rmtree(work, ignore_errors=True)
    (work / "dags").mkdir(parents=True)
    (work / "plugins").mkdir()
    (work / "dags" / "task_floor.py").write_text(DAG_FILE.format(dag_id=DAG_ID, tasks=args.tasks))
    os.environ.update(
        {"AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(work / "plugins")}
    )
    results = Measurements()
    sh(str(SCRIPTS / "postgres.sh"), "start", timeout=180)
    try:
        sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
        recreate_metadata_db()
        shutil.rmtree(Path(os.environ["AIRFLOW_HOME"]) / "logs", ignore_errors=True)
        sh(str(SCRIPTS / "airflow.sh"), "start", timeout=600)
        airflow_api.wait_for_dag(DAG_ID, timeout=180)
        airflow_api.unpause(DAG_ID)
        say(f"{args.runs} runs of {args.tasks} no-op task instances")
        cpu0, parts0 = cpu_times(), component_cpu()
        t0 = time.perf_counter()
        for _ in range(args.runs):
            airflow_api.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None})
        while True:
            counts = run_states()
            if counts.get("success", 0) + counts.get("failed", 0) >= args.runs:
                break
            if time.perf_counter() - t0 > args.timeout:
                raise SystemExit(f"timed out: runs {counts}")
            time.sleep(1)
        wall = time.perf_counter() - t0
        cpu1, parts1 = cpu_times(), component_cpu()
        tis = states()
        if counts.get("success") != args.runs or tis.get("success") != args.runs * args.tasks:
            raise SystemExit(f"not every run or task instance succeeded: runs {counts}, task instances {tis}")
    finally:
        sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
        sh(str(SCRIPTS / "postgres.sh"), "stop", timeout=180)
    n = args.runs * args.tasks
    results.add("floor", "wall", wall, "s", f"{args.runs} runs x {args.tasks} task instances")
    add_cpu_per_task(results, (cpu0, parts0), (cpu1, parts1), n, wall)
    args.out.mkdir(parents=True, exist_ok=True)
    results.write_csv(args.out / "floor.csv")
    say(f"wrote {report(args.out, results, args)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
