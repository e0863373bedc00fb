"""Renders `make bench-airflow`'s table, airflow.md, from its airflow.csv alone.

bench/airflow_overhead.py measures and writes airflow.csv (+ airflow_tasks.csv), then calls this;
run it by hand to re-render a run (no stack needed):

    python bench/report_airflow.py bench/results/airflow-<stamp>

The explanations (what each figure is, what the measured runs showed) live in
bench/README-airflow.md, not here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from measurements import Measurements

ROWS = [  # (label, name, format)
    ("backfill `--max-active-runs`", "max_active_runs", "{:.0f}"),
    ("`[core] parallelism` · `max_active_tasks_per_dag`", ("parallelism", "max_active_tasks_per_dag"), "{:.0f}"),
    ("`warehouse` pool slots", "warehouse_pool_slots", "{:.0f}"),
    (
        "plugins/ scanned as Airflow plugins folder · bytecode cache",
        ("plugins_folder_scanned", "bytecode_cache"),
        lambda v: "yes" if v else "no",
    ),
    ("`[scheduler] scheduler_idle_sleep_time` (s)", "scheduler_idle_sleep_time", "{:g}"),
    ("runs · task instances (all success) · retries", ("runs", "task_instances", "retries"), "{:.0f}"),
    ("**wall time**, first run start → last run end (s)", "wall", "**{:.1f}**"),
    ("end to end incl. `backfill create` CLI (s)", "end_to_end", "{:.1f}"),
    ("per-run wall time, median (s)", "run_wall_median", "{:.2f}"),
    ("Σ task duration (s) · of it in `execute()` (s)", ("sum_task_duration", "sum_execute"), "{:.1f}"),
    ("body share Σ duration / wall (mean bodies running)", "body_share_of_wall", "{:.2f}"),
    ("effective slots C · peak bodies running", ("effective_slots", "peak_concurrency"), "{:.0f}"),
    ("body share Σ duration / (wall x C)", "body_share_of_slots", "{:.1%}"),
    ("overhead per task (wall x C - Σ duration) / tasks (s)", "overhead_per_task", "{:.2f}"),
    ("dispatch per task, ready → start, mean · median (s)", ("dispatch_mean", "dispatch_median"), "{:.2f}"),
    ("  ready → scheduled (scheduler), mean (s)", "ready_to_scheduled_mean", "{:.2f}"),
    (
        "  scheduled → queued, mean (s) · of `warehouse` pool tasks",
        ("scheduled_to_queued_mean", "pool_wait_mean"),
        "{:.3f}",
    ),
    ("  queue latency queued → start, mean · median (s)", ("queue_latency_mean", "queue_latency_median"), "{:.3f}"),
    ("task duration, mean (s)", "duration_mean", "{:.2f}"),
    ("  DAG parse in the task process, mean · min (s)", ("dag_parse_mean", "dag_parse_min"), "{:.2f}"),
    ("  operator `execute()`, mean (s)", "execute_mean", "{:.2f}"),
    ("  rest of the task process (duration - execute), mean (s)", "framework_mean", "{:.2f}"),
    ("run start latency (slot free → running), mean (s)", "run_start_latency_mean", "{:.2f}"),
    ("run finalize (last task end → run end), mean (s)", "run_finalize_mean", "{:.2f}"),
    (
        "critical path per run: bodies · dispatch, median (s)",
        ("critical_path_body_median", "critical_path_dispatch_median"),
        "{:.2f}",
    ),
    ("CPU busy (all cores) · load average", ("cpu_busy", "loadavg"), "{:.2f}"),
    (
        "CPU s: task processes · scheduler loop · api-server",
        ("cpu_task_processes", "cpu_scheduler_loop", "cpu_api_server"),
        "{:.0f}",
    ),
    (
        "CPU s: dag-processor · triggerer · Postgres · not the stack",
        ("cpu_dag_processor", "cpu_triggerer", "cpu_postgres", "cpu_other"),
        "{:.0f}",
    ),
    ("CPU s per task: task process · whole stack", ("cpu_task_process_per_task", "cpu_stack_per_task"), "{:.2f}"),
]


def cell(figs: Measurements, section: str, names: str | tuple[str, ...], fmt: str | Callable[[float], str]) -> str:
    names = (names,) if isinstance(names, str) else names
    show = fmt if callable(fmt) else fmt.format
    return " · ".join(show(figs.get(section, n)) for n in names)


def detail(figs: Measurements, section: str, name: str) -> str:
    return next(r["detail"] for r in figs.rows if r["section"] == section and r["name"] == name)


def markdown(figs: Measurements, names: list[str]) -> str:
    """airflow.md from the figures alone (so --report-only can rebuild it from airflow.csv)."""
    wall = figs.get("run", "script_wall")
    data_note = (f"{figs.get('run', 'events_per_day'):,.0f} events/day, {figs.get('run', 'events_total'):,.0f} "
                 f"events over the {detail(figs, 'run', 'events_per_day')}")  # fmt: skip
    lines = ["| measurement | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {label} | " + " | ".join(cell(figs, n, key, fmt) for n in names) + " |" for label, key, fmt in ROWS]
    wb = figs.get(names[0], "wall")
    speedups = " | ".join(f"{wb / figs.get(n, 'wall'):.2f}x" for n in names)
    lines.append(f"| **wall-time speed-up vs {names[0]}** | {speedups} |")
    text = [
        "**Orchestration overhead: 30-partition staging backfill through the real scheduler** "
        f"(`bench/airflow_overhead.py`, LocalExecutor, {os.cpu_count()} CPUs shared with other work; {data_note}; "
        f"whole script {wall:.0f} s). Every configuration ran on a fresh metadata DB and warehouse schema with the "
        "same data. `sparkify_transform` stayed paused, so only the staging runs are measured "
        f"({figs.get(names[0], 'depth'):.0f} dependent steps, {figs.get(names[0], 'tasks_per_run'):.0f} task "
        "instances per run: sensor, "
        "stage_events ∥ stage_songs, the mapped checks, publish). Task times are from the REST API "
        "(`/api/v2/dags/sparkify_staging/dagRuns/{run}/taskInstances`), DAG parse and `execute()` from the task "
        "logs, CPU (psutil) for each component's process tree. The first column is the baseline (the "
        "stack's defaults from scripts/env.sh and Airflow's, unless configured otherwise), the last the tuned "
        "stack; their settings are the first rows.",
        "",
        *lines,
        "",
    ]
    text.append("What each figure means, and what the results so far explain: bench/README-airflow.md.")
    return "\n".join(text) + "\n"


def render(out: Path) -> Path:
    """airflow.md from airflow.csv (configurations included): no stack needed."""
    figs = Measurements(missing=float("nan")).read_csv(out / "airflow.csv")
    names = [r["section"] for r in figs.rows if r["name"] == "config"]  # in the order they ran
    (out / "airflow.md").write_text(markdown(figs, names))
    return out / "airflow.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a run's folder: bench/results/airflow-<stamp>")
    print(f"wrote {render(parser.parse_args().out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
