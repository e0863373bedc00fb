"""Orchestration overhead: a 30-partition staging backfill through the real scheduler, before/after tuning.

Why: bench.py measures what a partition costs inside the task bodies. A backfill through Airflow
also pays for scheduling, queueing, task process start, the DAG parse in every task process and
run bookkeeping; with small partitions those dominate. This runs the same backfill
(``airflow backfill create --dag-id sparkify_staging --from-date 2018-11-01 --to-date 2018-11-30
--reprocess-behavior completed --max-active-runs N``, as scripts/backfill.py does) once per
configuration on a fresh metadata DB, a fresh warehouse schema and the same generated data, reads
every task instance back over the REST API and the task logs, and reports where the wall time
goes: task bodies versus orchestration, per task and per run.

The stack is ISOLATED (its own state dir, Postgres, Airflow ports) because the metadata database
is dropped for every configuration. Run it through ``make bench-airflow``, or by hand::

    SPARKIFY_TEST_STATE=/var/tmp/sf-overhead SPARKIFY_TEST_PG_PORT=55520 SPARKIFY_TEST_AIRFLOW_PORT=8195 \\
    SPARKIFY_TEST_S3_PORT=8395 bash -c '. scripts/test-env.sh && python bench/airflow_overhead.py'

``sparkify_transform`` stays paused (paused at creation, never unpaused): the asset events are
recorded but start no transform run, so only the staging backfill is measured.

Writes ``<out>/airflow.csv`` (section,name,value,unit,detail; section = configuration),
``<out>/airflow_tasks.csv`` (one row per task instance) and ``<out>/airflow.md`` (the before/after
table and its explanation, included by ``bench/bench.py --airflow-report <out>``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import report_airflow
from measurements import Measurements, write_rows

from sparkify_stack import airflow_api, runwatch

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"

DAG = "sparkify_staging"
TRANSFORM = "sparkify_transform"
FIRST, LAST = "2018-11-01", "2018-11-30"
#: Ports and state dirs of the demo, test and bench stacks: never drop their metadata DB.
FOREIGN_PG_PORTS = {"55432", "55433", "55434"}
FOREIGN_AIRFLOW_PORTS = {"8080", "8081", "8082"}
#: The settings the benchmark varies, with the values of the untuned baseline: what the stack ran
#: with before it adopted the tuned ones (scripts/env.sh now defaults to those). Every configuration
#: starts from these, so "before" stays the same baseline whatever env.sh says.
TUNABLES = {
    "AIRFLOW__CORE__PARALLELISM": "8",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "8",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
    "SPARKIFY_WAREHOUSE_POOL_SLOTS": "4",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
}
#: The built-in configurations (first = baseline, last = tuned), each on a fresh metadata DB.
#: before: one run at a time on the stack's defaults (scripts/env.sh + Airflow 3.3's scheduler defaults).
#: tuned: the Airflow settings that measurably helped on the 2-core machine (bench/README-airflow.md):
#:   4 runs in flight (the DAG's max_active_runs); 16 executor slots, 16 tasks per run and 8 pool slots
#:   (2 warehouse writers per run x 4 runs); the scheduler sleeping 0.2 s instead of 1 s after an idle
#:   loop; the dag-processor not re-parsing the unchanged DAG files every 10 s during the backfill.
#: after: tuned plus a bytecode cache, for environments that export PYTHONDONTWRITEBYTECODE=1 (this
#:   one does): without it every task process compiles the modules it imports from source.
TUNED = (
    "runs=4,AIRFLOW__CORE__PARALLELISM=16,AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=16,pool=8,"
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME=0.2,AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=600,"
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=600"
)
DEFAULT_CONFIGS = ["before:runs=1", f"tuned:{TUNED}", f"after:{TUNED},pyc=cache"]


def say(msg: str) -> None:
    print(f"[airflow-overhead] {msg}", file=sys.stderr, flush=True)


def ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def secs(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    """b - a in seconds, None when either is missing."""
    return (b - a).total_seconds() if a and b else None


def mean(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else float("nan")


def median(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else float("nan")


# --------------------------------------------------------------------------- configurations


OPTIONS = {"plugins": ("scan", "pythonpath"), "pyc": ("as-is", "cache")}


@dataclass(frozen=True)
class Setup:
    """One configuration: the backfill's --max-active-runs and how the components are started.

    ``plugins``: "scan" leaves plugins/ as Airflow's plugins folder (the project's default), so every
    task process imports each .py file under it looking for AirflowPlugin classes; "pythonpath" points
    the plugins folder at an empty directory and puts plugins/ on PYTHONPATH instead (sparkify has no
    AirflowPlugin, it only needs to be importable). ``pyc``: "as-is" keeps the caller's
    PYTHONDONTWRITEBYTECODE; "cache" enables a bytecode cache under the state dir, so task processes
    stop compiling the modules they import from source.
    """

    name: str
    max_active_runs: int
    env: dict[str, str]
    plugins: str = "scan"
    pyc: str = "as-is"

    @classmethod
    def parse(cls, spec: str) -> Setup:
        """'NAME:runs=4,pool=8,plugins=pythonpath,pyc=cache,AIRFLOW__X__Y=v' (runs defaults to 1)."""
        name, _, rest = spec.partition(":")
        runs, env, options = 1, {}, {}
        for item in filter(None, rest.split(",")):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"bad item {item!r} in {spec!r} (want KEY=VALUE)")
            if key == "runs":
                runs = int(value)
            elif key == "pool":
                env["SPARKIFY_WAREHOUSE_POOL_SLOTS"] = value
            elif value in OPTIONS.get(key, ()):
                options[key] = value
            elif key.startswith(("AIRFLOW__", "SPARKIFY_")):
                env[key] = value
            else:
                raise ValueError(f"unknown setting {item!r} in {spec!r}")
        return cls(name, runs, env, **options)

    def value(self, key: str) -> str:
        """What the components see for a tunable: this config's value, the caller's env, or the default."""
        return self.env.get(key) or TUNABLES[key]

    def stack_env(self, state: Path) -> dict[str, str]:
        """Environment overrides for the Airflow components and the airflow CLI of this configuration."""
        env = {**TUNABLES, **self.env}
        if self.plugins == "pythonpath":
            empty = state / "overhead" / "no-plugins"
            empty.mkdir(parents=True, exist_ok=True)
            env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(empty)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "plugins"), os.environ.get("PYTHONPATH")]))
        if self.pyc == "cache":
            env["PYTHONDONTWRITEBYTECODE"] = ""  # empty = unset for Python
            env["PYTHONPYCACHEPREFIX"] = str(state / "overhead" / "pycache")  # not next to the repo's sources
        return env

    def spec(self) -> str:
        """The --config string that parses back into this configuration (kept in airflow.csv)."""
        items = [f"runs={self.max_active_runs}", f"plugins={self.plugins}", f"pyc={self.pyc}"]
        return f"{self.name}:" + ",".join(items + [f"{k}={v}" for k, v in sorted(self.env.items())])

    def describe(self) -> str:
        parts = [f"--max-active-runs {self.max_active_runs}", f"plugins={self.plugins}", f"pyc={self.pyc}"]
        parts += [f"{k}={v}" for k, v in sorted(self.env.items())]
        return ", ".join(parts)


# --------------------------------------------------------------------------- the stack


def check_isolated() -> None:
    """Refuse to run on the demo, test or bench stack: every configuration drops the metadata DB."""
    state = os.environ.get("SPARKIFY_STATE", "")
    if not state or not os.environ.get("AIRFLOW_HOME") or not os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        raise SystemExit("source scripts/test-env.sh with SPARKIFY_TEST_* overrides first (see the docstring)")
    own = {str(REPO / ".state" / n) for n in ("demo", "test", "bench")}
    if (
        state in own
        or os.environ.get("SPARKIFY_PG_PORT") in FOREIGN_PG_PORTS
        or os.environ.get("AIRFLOW_PORT") in FOREIGN_AIRFLOW_PORTS
    ):
        raise SystemExit(
            f"refusing to run on a shared stack (state {state}, Postgres {os.environ.get('SPARKIFY_PG_PORT')}, "
            f"Airflow {os.environ.get('AIRFLOW_PORT')}): set SPARKIFY_TEST_STATE/_PG_PORT/_AIRFLOW_PORT/_S3_PORT"
        )


def sh(*cmd: str, env: dict[str, str] | None = None, timeout: float = 600) -> None:
    subprocess.run(list(cmd), check=True, timeout=timeout, env={**os.environ, **(env or {})})


def postgres_running() -> bool:
    done = subprocess.run([str(SCRIPTS / "postgres.sh"), "status"], capture_output=True, check=False)
    return done.returncode == 0


def metadata_url() -> str:
    """The stack's Airflow metadata DB as a psycopg URL (Airflow's names the SQLAlchemy driver)."""
    return os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2://", "postgresql://")


def recreate_metadata_db() -> None:
    """A clean Airflow metadata DB (as tests/e2e/conftest.py): no runs, backfills or pools of earlier configs."""
    with psycopg.connect(metadata_url(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def drop_schema(schema: str) -> None:
    with psycopg.connect(os.environ["SPARKIFY_WAREHOUSE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def generate_data(root: Path, events_per_day: int) -> dict[str, Any]:
    """30 small days (orchestration dominates) and a small catalogue, deterministic from the seed."""
    spec = importlib.util.spec_from_file_location("generate_data", SCRIPTS / "generate_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    subprocess.run(["rm", "-rf", str(root)], check=True)
    return module.generate(
        root, dt.date.fromisoformat(FIRST), dt.date.fromisoformat(LAST),
        users=200, events_per_day=events_per_day, songs=200, match_share=0.1, seed=11,
    )  # fmt: skip


def write_config(path: Path, schema: str) -> Path:
    """config.json with a fresh warehouse schema (the source comes from SPARKIFY_SOURCE)."""
    document = json.loads((REPO / "config.json").read_text())
    document["warehouse"]["schema"] = schema
    path.write_text(json.dumps(document))
    return path


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of all CPUs since boot (psutil; idle and iowait are not busy)."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total


COMPONENTS = ("scheduler", "api-server", "dag-processor", "triggerer")


def tree_cpu(root: int) -> tuple[float, float]:
    """(root's own CPU s, CPU s of everything below it): live descendants plus what they reaped.

    Why this sums correctly: an exited process's time is added to its parent's children_user /
    children_system when the parent reaps it, so live processes' own + reaped times cover the
    whole tree, once.
    """
    try:
        process = psutil.Process(root)
        times = process.cpu_times()
        below = times.children_user + times.children_system
        for child in process.children(recursive=True):
            try:
                ct = child.cpu_times()
            except psutil.Error:  # exited meanwhile: its time is in its parent's reaped time
                continue
            below += ct.user + ct.system + ct.children_user + ct.children_system
    except psutil.Error:
        return 0.0, 0.0
    return times.user + times.system, below


def component_cpu() -> dict[str, float]:
    """Cumulative CPU seconds per component of the isolated stack (by the PIDs its scripts recorded).

    The scheduler's tree is split: the scheduler process itself (its loop) versus its LocalExecutor
    workers, which supervise the task processes and reap them (task process CPU lands there).
    """
    pids = Path(os.environ["SPARKIFY_PIDS"])
    out: dict[str, float] = {}
    for name in COMPONENTS:
        try:
            pid = int((pids / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        own, below = tree_cpu(pid)
        if name == "scheduler":
            out["scheduler_loop"], out["task_processes"] = own, below
        else:
            out[name.replace("-", "_")] = own + below
    try:
        postmaster = int((Path(os.environ["SPARKIFY_PGDATA"]) / "postmaster.pid").read_text().split()[0])
        out["postgres"] = sum(tree_cpu(postmaster))
    except (OSError, ValueError, IndexError):
        pass
    return out


#: The stack's CPU consumers as component_cpu names them, and "other": the rest of the machine's
#: busy time in the same window (the benchmark's own process, the OS).
STACK_CPU = ("task_processes", "scheduler_loop", "api_server", "dag_processor", "triggerer", "postgres", "other")


def add_cpu_per_task(
    results: Measurements,
    before: tuple[tuple[float, float], dict[str, float]],
    after: tuple[tuple[float, float], dict[str, float]],
    tasks: int,
    wall: float,
) -> None:
    """CPU figures of a window from two (cpu_times(), component_cpu()) readings, per task instance.

    Adds (section cpu) the share of all CPUs busy, the whole stack's CPU s per task instance (every
    component, not "other") and each of STACK_CPU's.
    """
    (cpu0, parts0), (cpu1, parts1) = before, after
    busy = (cpu1[0] - cpu0[0]) / max(cpu1[1] - cpu0[1], 1e-9)
    cpu = {k: parts1[k] - parts0.get(k, 0.0) for k in parts1}
    cpu["other"] = max(0.0, busy * (os.cpu_count() or 1) * wall - sum(cpu.values()))
    results.add("cpu", "busy_share", busy, "share", "all CPUs")
    results.add("cpu", "whole_stack_per_task", sum(v for k, v in cpu.items() if k != "other") / tasks, "CPU s")
    for name in STACK_CPU:
        results.add("cpu", f"{name}_per_task", cpu.get(name, 0.0) / tasks, "CPU s")


def silence_scheduled_run(timeout: float = 30) -> str:
    """Mark failed the run the scheduler creates for the newest partition when the DAG is unpaused.

    Why: catchup=False still creates one scheduled run for "yesterday" on unpause (tasks of a paused
    DAG are never queued, backfill runs included, so the DAG must be unpaused). Its partition has no
    file, so its sensor would poke every 5 minutes in the middle of the measurement.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in airflow_api.list_dag_runs(DAG):
            if run.get("run_type") == "scheduled":
                if run["state"] not in runwatch.FINISHED:
                    path = f"/api/v2/dags/{DAG}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
                    airflow_api.api("PATCH", path, {"state": "failed"})
                return str(run.get("partition_key"))
        time.sleep(0.5)
    return "none created"


# --------------------------------------------------------------------------- one measurement


@dataclass
class Measured:
    """What one configuration produced: runs, task instances (with derived timings) and facts."""

    setup: Setup
    runs: list[dict[str, Any]] = field(default_factory=list)
    tis: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def backfill(setup: Setup, timeout: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Create the backfill (scripts/backfill.py's invocation) and wait until all its runs are terminal."""
    keys = runwatch.partition_keys(FIRST, LAST)
    cmd = [
        "airflow", "backfill", "create", "--dag-id", DAG, "--from-date", FIRST, "--to-date", LAST,
        "--reprocess-behavior", "completed", "--max-active-runs", str(setup.max_active_runs),
    ]  # fmt: skip
    cpu0, load0, parts0 = cpu_times(), os.getloadavg()[0], component_cpu()
    created = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"airflow backfill create failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    facts: dict[str, Any] = {"backfill_create_s": time.perf_counter() - t0, "created": created}
    deadline = time.monotonic() + timeout
    last_note = 0.0
    while True:
        runs = [r for r in airflow_api.list_dag_runs(DAG) if r.get("run_type") == "backfill"]
        finished = [r for r in runs if r["state"] in runwatch.FINISHED]
        if len(runs) >= len(keys) and len(finished) == len(runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{setup.name}: timeout after {timeout:.0f}s, {len(finished)}/{len(keys)} runs finished")
        if time.monotonic() - last_note > 20:
            say(f"{setup.name}: {len(finished)}/{len(keys)} backfill runs finished")
            last_note = time.monotonic()
        time.sleep(1.0)
    cpu1, parts1 = cpu_times(), component_cpu()
    window = time.perf_counter() - t0
    facts["window_s"] = window
    facts["cpu_busy"] = (cpu1[0] - cpu0[0]) / max(cpu1[1] - cpu0[1], 1e-9)
    facts["cpu"] = {k: parts1[k] - parts0.get(k, 0.0) for k in parts1}
    facts["cpu"]["machine"] = facts["cpu_busy"] * (os.cpu_count() or 1) * window
    facts["loadavg"] = (load0 + os.getloadavg()[0]) / 2
    failed = [r for r in runs if r["state"] != "success"]
    if failed or sorted(r["partition_key"] for r in runs) != keys:
        names = runwatch.failed_tasks([(DAG, r) for r in failed]) if failed else {}
        detail = "; ".join(f"{r['partition_key']}: {', '.join(names.get((DAG, r['dag_run_id']), []))}" for r in failed)
        raise SystemExit(f"{setup.name}: {len(failed)} backfill run(s) not successful ({detail}); keys {len(runs)}")
    return runs, facts


def task_instances(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every task instance of one run (GET /api/v2/dags/{dag}/dagRuns/{run}/taskInstances)."""
    run_id = urllib.parse.quote(run["dag_run_id"], safe="")
    page = airflow_api.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances?limit=100")
    return page["task_instances"]


def log_timings(ti: dict[str, Any]) -> dict[str, float | None]:
    """From the task's own log: DAG parse in the task process and the time inside execute().

    Why: the REST duration covers the whole task process after it is registered as running
    (Airflow startup, DAG file parse, execute(), XCom push, final state call). The log separates
    the operator's work ("::endgroup::" of Pre Execute → "::group::Post Execute") from the rest.
    """
    mapped = f"map_index={ti['map_index']}/" if ti["map_index"] >= 0 else ""
    path = (
        Path(os.environ["AIRFLOW_HOME"]) / "logs" / f"dag_id={DAG}" / f"run_id={ti['dag_run_id']}"
        / f"task_id={ti['task_id']}" / f"{mapped}attempt={ti['try_number']}.log"
    )  # fmt: skip
    out: dict[str, float | None] = {"parse_s": None, "execute_s": None}
    if not path.is_file():
        return out
    pre_end = post_start = None
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event = str(record.get("event", ""))
        if "dag_file_parse_ms" in record:
            out["parse_s"] = float(record["dag_file_parse_ms"]) / 1000
        if event == "::endgroup::" and pre_end is None:
            pre_end = ts(record.get("timestamp"))
        if event == "::group::Post Execute" and post_start is None:
            post_start = ts(record.get("timestamp"))
    out["execute_s"] = secs(pre_end, post_start)
    return out


def derive(runs: list[dict[str, Any]], tis: list[dict[str, Any]], upstream: dict[str, set[str]]) -> None:
    """Per task instance: when it became ready and each lag up to its start; per run: critical path.

    ready = the latest end of its upstream tasks (all map indexes; trigger rule all_success) or, for
    the first task, the run's start. ready→scheduled is the scheduler noticing; scheduled→queued
    the scheduler handing it to the executor; queued→start the executor starting the task process.
    """
    by_run: dict[str, list[dict[str, Any]]] = {}
    for ti in tis:
        by_run.setdefault(ti["dag_run_id"], []).append(ti)
    for run in runs:
        items = by_run[run["dag_run_id"]]
        run_start, run_end = ts(run["start_date"]), ts(run["end_date"])
        ends: dict[str, dt.datetime] = {}
        for ti in items:
            ends[ti["task_id"]] = max(ends.get(ti["task_id"], ti["_end"]), ti["_end"])
        for ti in items:
            ups = [ends[u] for u in upstream[ti["task_id"]] if u in ends]
            ti["_ready"] = max(ups) if ups else run_start
            ti["ready_to_scheduled_s"] = secs(ti["_ready"], ts(ti["scheduled_when"]))
            ti["scheduled_to_queued_s"] = secs(ts(ti["scheduled_when"]), ts(ti["queued_when"]))
            ti["queued_to_start_s"] = secs(ts(ti["queued_when"]), ti["_start"])
            ti["dispatch_s"] = secs(ti["_ready"], ti["_start"])
            ti["run_wall_s"] = secs(run_start, run_end)
        # Critical path: from the last task to end back through the upstream that ended last.
        last = max(items, key=lambda t: t["_end"])
        body = gaps = 0.0
        node: dict[str, Any] | None = last
        while node is not None:
            body += secs(node["_start"], node["_end"]) or 0.0
            gaps += node["dispatch_s"] or 0.0
            ups = [t for t in items if t["task_id"] in upstream[node["task_id"]]]
            node = max(ups, key=lambda t: t["_end"]) if ups else None
        run["_wall"] = secs(run_start, run_end)
        run["_critical_body"] = body
        run["_critical_dispatch"] = gaps
        run["_finalize"] = secs(last["_end"], run_end)


def depth(upstream: dict[str, set[str]]) -> int:
    """Number of tasks on the longest dependency chain of the DAG (steps a run must take in sequence)."""
    memo: dict[str, int] = {}

    def level(task: str) -> int:
        if task not in memo:
            memo[task] = 1 + max((level(u) for u in upstream[task]), default=0)
        return memo[task]

    return max(level(t) for t in upstream)


def run_start_latency(runs: list[dict[str, Any]], max_active: int) -> list[float]:
    """Per run: its start minus when a run slot became free for it (or the backfill was queued).

    With max_active_runs M, the j-th run to start (j >= M) could start when the (j-M+1)-th of the
    earlier runs ended; this is the scheduler's delay in starting the next partition.
    """
    ordered = sorted(runs, key=lambda r: ts(r["start_date"]))
    out = []
    for j, run in enumerate(ordered):
        free = ts(run["queued_at"])
        if j >= max_active:
            ends = sorted(ts(r["end_date"]) for r in ordered[:j])
            free = max(free, ends[j - max_active])
        out.append(secs(free, ts(run["start_date"])))
    return out


def peak_concurrency(tis: list[dict[str, Any]]) -> int:
    events = sorted([(t["_start"], 1) for t in tis] + [(t["_end"], -1) for t in tis], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def measure(setup: Setup, args: argparse.Namespace, data: Path, work: Path) -> Measured:
    """Fresh metadata DB and warehouse schema, Airflow with the config's env, the backfill, the readout."""
    say(f"=== {setup.name}: {setup.describe()}")
    schema = f"ovh_{setup.name}"
    env = {
        **setup.stack_env(Path(os.environ["SPARKIFY_STATE"])),
        "SPARKIFY_SOURCE": str(data),
        "SPARKIFY_CONFIG": str(write_config(work / f"config-{setup.name}.json", schema)),
    }
    sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
    if setup.pyc == "cache":
        warm_bytecode_cache(env)
    recreate_metadata_db()
    for old_logs in (Path(os.environ["AIRFLOW_HOME"]) / "logs").glob("dag_id=*"):
        shutil.rmtree(old_logs)  # task logs of earlier configurations' runs (their runs are gone with the DB)
    drop_schema(schema)
    t0 = time.perf_counter()
    sh(str(SCRIPTS / "airflow.sh"), "start", env=env, timeout=600)
    airflow_api.wait_for_dag(DAG, timeout=180)
    airflow_api.wait_for_dag(TRANSFORM, timeout=180)
    result = Measured(setup, facts={"airflow_start_s": time.perf_counter() - t0})
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # the airflow CLI (backfill create) reads the same config and source
    try:
        airflow_api.unpause(DAG)  # the transform stays paused: only staging is measured
        result.facts["scheduled_run"] = silence_scheduled_run()
        runs, facts = backfill(setup, args.timeout)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result.facts.update(facts)
    tasks = airflow_api.api("GET", f"/api/v2/dags/{DAG}/tasks")["tasks"]
    upstream: dict[str, set[str]] = {t["task_id"]: set() for t in tasks}
    for t in tasks:
        for down in t["downstream_task_ids"]:
            upstream[down].add(t["task_id"])
    tis: list[dict[str, Any]] = []
    for run in runs:
        for ti in task_instances(run):
            if ti["state"] != "success":
                raise SystemExit(f"{setup.name}: {run['partition_key']} {runwatch.ti_name(ti)} is {ti['state']}")
            ti["_start"], ti["_end"] = ts(ti["start_date"]), ts(ti["end_date"])
            ti["partition_key"] = run["partition_key"]
            ti.update(log_timings(ti))
            tis.append(ti)
    derive(runs, tis, upstream)
    result.runs, result.tis = runs, tis
    result.facts["width"] = max(
        sum(1 for t in tis if t["dag_run_id"] == runs[0]["dag_run_id"] and t["task_id"] == tid) for tid in upstream
    )
    result.facts["depth"] = depth(upstream)
    if not args.keep:
        drop_schema(schema)
    return result


WARM = """
import sys
import airflow.sdk.execution_time.supervisor, airflow.sdk.execution_time.task_runner
from airflow.dag_processing.dagbag import DagBag
DagBag(sys.argv[1])
"""


def warm_bytecode_cache(env: dict[str, str]) -> None:
    """Fill a fresh bytecode cache once (task runner + DAG file imports), so no configuration pays for it."""
    subprocess.run(
        [sys.executable, "-c", WARM, str(REPO / "dags" / f"{DAG}.py")],
        env={**os.environ, **env}, capture_output=True, timeout=300, check=True,
    )  # fmt: skip


# --------------------------------------------------------------------------- figures


def figures_for(m: Measured, out: Measurements) -> None:
    """Every figure of one configuration, under section = its name."""
    s, tis, runs = m.setup, m.tis, m.runs
    first = min(ts(r["start_date"]) for r in runs)
    last = max(ts(r["end_date"]) for r in runs)
    wall = secs(first, last)
    n = len(tis)
    total = sum(t["duration"] for t in tis)
    parallelism = int(s.value("AIRFLOW__CORE__PARALLELISM"))
    per_run = int(s.value("AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"))
    slots = min(parallelism, s.max_active_runs * min(per_run, m.facts["width"]))
    sec = s.name
    out.add(sec, "config", 0, "", s.spec())
    out.add(sec, "depth", m.facts["depth"], "tasks", "longest dependency chain of a staging run")
    out.add(sec, "tasks_per_run", n / len(runs), "tasks")
    out.add(sec, "max_active_runs", s.max_active_runs, "runs", "airflow backfill create --max-active-runs")
    out.add(sec, "parallelism", parallelism, "tasks", "[core] parallelism")
    out.add(sec, "max_active_tasks_per_dag", per_run, "tasks", "[core] max_active_tasks_per_dag (per run in 3.x)")
    out.add(sec, "plugins_folder_scanned", float(s.plugins == "scan"), "bool", "plugins/ is Airflow's plugins folder")
    caller = os.environ.get("PYTHONDONTWRITEBYTECODE", "unset")
    out.add(sec, "bytecode_cache", float(s.pyc == "cache" or not os.environ.get("PYTHONDONTWRITEBYTECODE")), "bool",
            f"PYTHONDONTWRITEBYTECODE of the caller: {caller!r}")  # fmt: skip
    out.add(sec, "warehouse_pool_slots", int(s.value("SPARKIFY_WAREHOUSE_POOL_SLOTS")), "slots")
    out.add(sec, "scheduler_idle_sleep_time", float(s.value("AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME")), "s")
    silenced = m.facts.get("scheduled_run", "none created")
    out.add(sec, "scheduled_run_failed", float(silenced != "none created"), "bool",
            f"the run created on unpause for partition {silenced}, marked failed before the backfill")  # fmt: skip
    out.add(sec, "runs", len(runs), "runs", "all success")
    out.add(sec, "task_instances", n, "tasks", "all success")
    out.add(sec, "retries", sum(t["try_number"] > 1 for t in tis), "tasks", "task instances with try_number > 1")
    out.add(sec, "wall", wall, "s", "first run start -> last run end")
    out.add(sec, "end_to_end", secs(m.facts["created"], last), "s", "backfill create called -> last run end")
    out.add(sec, "backfill_create", m.facts["backfill_create_s"], "s", "airflow backfill create CLI")
    out.add(sec, "run_wall_median", median([r["_wall"] for r in runs]), "s", "per run start -> end")
    out.add(sec, "sum_task_duration", total, "s", "sum of REST duration (task process, registered running -> end)")
    out.add(sec, "sum_execute", sum(t["execute_s"] or 0 for t in tis), "s", "sum of operator execute() (task logs)")
    out.add(sec, "body_share_of_wall", total / wall, "x", "sum(duration) / wall = mean task bodies running")
    out.add(sec, "effective_slots", slots, "tasks", "min(parallelism, runs x min(max_active_tasks, widest layer))")
    out.add(sec, "body_share_of_slots", total / (wall * slots), "ratio", "sum(duration) / (wall x slots)")
    out.add(sec, "overhead_per_task", (wall * slots - total) / n, "s", "(wall x slots - sum(duration)) / tasks")
    out.add(sec, "peak_concurrency", peak_concurrency(tis), "tasks", "most task bodies running at once")
    out.add(sec, "queue_latency_mean", mean([t["queued_to_start_s"] for t in tis]), "s", "queued_when -> start_date")
    out.add(sec, "queue_latency_median", median([t["queued_to_start_s"] for t in tis]), "s")
    out.add(sec, "dispatch_mean", mean([t["dispatch_s"] for t in tis]), "s", "ready (upstream done) -> start")
    out.add(sec, "dispatch_median", median([t["dispatch_s"] for t in tis]), "s")
    out.add(sec, "ready_to_scheduled_mean", mean([t["ready_to_scheduled_s"] for t in tis]), "s", "scheduler")
    out.add(sec, "scheduled_to_queued_mean", mean([t["scheduled_to_queued_s"] for t in tis]), "s", "scheduler")
    pooled = [t["scheduled_to_queued_s"] for t in tis if t.get("pool") == "warehouse"]
    out.add(sec, "pool_wait_mean", mean(pooled), "s", "scheduled -> queued of the warehouse-pool tasks")
    out.add(sec, "duration_mean", total / n, "s", "per task")
    parses = sorted(t["parse_s"] for t in tis if t["parse_s"] is not None)
    out.add(sec, "dag_parse_mean", mean(parses), "s", "DAG file parse in the task process")
    out.add(sec, "dag_parse_min", parses[0] if parses else float("nan"), "s", "least contended parse")
    out.add(sec, "execute_mean", mean([t["execute_s"] for t in tis]), "s", "operator execute()")
    outside = [t["duration"] - t["execute_s"] if t["execute_s"] is not None else None for t in tis]
    out.add(sec, "framework_mean", mean(outside), "s", "duration - execute: startup, parse, XCom, state")
    out.add(sec, "run_start_latency_mean", mean(run_start_latency(runs, s.max_active_runs)), "s",
            "run slot free -> run running")  # fmt: skip
    out.add(sec, "run_finalize_mean", mean([r["_finalize"] for r in runs]), "s", "last task end -> run end")
    out.add(sec, "critical_path_body_median", median([r["_critical_body"] for r in runs]), "s", "per run")
    out.add(sec, "critical_path_dispatch_median", median([r["_critical_dispatch"] for r in runs]), "s", "per run")
    out.add(sec, "cpu_busy", m.facts["cpu_busy"], "ratio", f"all {os.cpu_count()} CPUs, during the backfill")
    cpu = m.facts["cpu"]
    window = f"CPU s from backfill create to all runs done ({m.facts['window_s']:.0f} s)"
    for part in ("task_processes", "scheduler_loop", "api_server", "dag_processor", "triggerer", "postgres"):
        out.add(sec, f"cpu_{part}", cpu.get(part, float("nan")), "CPU s", window)
    ours = sum(v for k, v in cpu.items() if k != "machine")
    out.add(sec, "cpu_machine", cpu["machine"], "CPU s", "all CPUs busy time in the same window")
    out.add(sec, "cpu_other", cpu["machine"] - ours, "CPU s", "not the stack: other work, backfill CLI, this script")
    out.add(sec, "cpu_task_process_per_task", cpu.get("task_processes", float("nan")) / n, "CPU s",
            "LocalExecutor workers + task processes, per task instance")  # fmt: skip
    out.add(sec, "cpu_stack_per_task", ours / n, "CPU s", "whole stack (all components + Postgres) per task")
    out.add(sec, "loadavg", m.facts["loadavg"], "", "1-min load average, mean of start and end")
    out.add(sec, "airflow_start", m.facts["airflow_start_s"], "s", "db migrate on a fresh DB + components healthy")


def ti_rows(measured: list[Measured]) -> list[dict[str, Any]]:
    cols = ["partition_key", "task_id", "map_index", "pool", "try_number", "scheduled_when", "queued_when",
            "start_date", "end_date", "duration", "ready_to_scheduled_s", "scheduled_to_queued_s", "queued_to_start_s",
            "dispatch_s", "parse_s", "execute_s", "run_wall_s"]  # fmt: skip
    return [{"config": m.setup.name, **{c: t.get(c) for c in cols}} for m in measured for t in m.tis]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / f"airflow-{stamp}")
    parser.add_argument("--config", action="append", dest="configs", metavar="NAME:runs=N,KEY=VALUE,...",
                        help="a configuration (repeatable; first = baseline, last = tuned); default: "
                        + " ".join(DEFAULT_CONFIGS))  # fmt: skip
    parser.add_argument("--events-per-day", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=900, help="per backfill, seconds")
    parser.add_argument("--keep", action="store_true", help="leave the last stack running, keep warehouse schemas")
    args = parser.parse_args()
    setups = [Setup.parse(spec) for spec in (args.configs or DEFAULT_CONFIGS)]
    if len({s.name for s in setups}) != len(setups):
        parser.error("configuration names must be unique")
    check_isolated()
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ["SPARKIFY_STATE"]) / "overhead"
    work.mkdir(parents=True, exist_ok=True)
    started_pg = not postgres_running()
    sh(str(SCRIPTS / "postgres.sh"), "start", timeout=180)
    measured: list[Measured] = []
    try:
        counts = generate_data(work / "data", args.events_per_day)
        for setup in setups:
            measured.append(measure(setup, args, work / "data", work))
    finally:
        if not args.keep:
            sh(str(SCRIPTS / "airflow.sh"), "stop", timeout=180)
            if started_pg:
                sh(str(SCRIPTS / "postgres.sh"), "stop", timeout=180)
    figs = Measurements(missing=float("nan"))
    for m in measured:
        figures_for(m, figs)
    figs.add("run", "script_wall", time.perf_counter() - started, "s", "whole script: data, stacks, backfills")
    figs.add("run", "events_per_day", args.events_per_day, "events", f"30 partitions {FIRST}..{LAST}")
    figs.add("run", "events_total", counts["events"], "events", "generated (seed 11, 200 users, 200 songs)")
    figs.write_csv(args.out / "airflow.csv")
    write_rows(args.out / "airflow_tasks.csv", ti_rows(measured))
    report_airflow.render(args.out)
    say(f"wrote {args.out / 'airflow.md'}, airflow.csv, airflow_tasks.csv ({figs.get('run', 'script_wall'):.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
