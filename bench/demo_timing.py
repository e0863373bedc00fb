"""`make demo` timed: the whole demo from a stopped stack, then again with the services up.

Why: issue 14's demo target is about what a newcomer waits for: 30 days from services up to the
summary printed (target <= 90 s), and the whole `make demo` beside it. bench.py and
year_backfill.py measure parts of that on their own stacks; this runs the real thing, the demo
script with its defaults, on the demo stack (.state/demo, Postgres 55432, Airflow 8080):

1. cold: the demo stack is stopped (`make down`: data kept, so the venv and the generated data
   are reused as a returning user finds them), then `scripts/demo.sh` starts every service,
   generates and uploads the data, backfills 30 days and waits for every staging, transform and
   rollup run;
2. warm: `scripts/demo.sh` again with the services up (its default re-runs the completed
   partitions), the "services up -> summary printed" figure.

Each `[demo]` progress line is timestamped as it arrives, so the cold run is split into its
phases (services, data, DAG parse, backfill to summary). Writes bench/results/demo-<stamp>/demo.csv
and demo.md, and copies demo.md to bench/RESULTS-demo.md. The demo stack is stopped at the end.

    make bench-demo
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from measurements import Measurements

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 90.0
#: The cold run's phases, each ending when the demo prints the line starting with this text.
PHASES = (
    ("services and data", "[demo] waiting for the DAGs to be parsed"),
    ("DAG parse and unpause", "[demo] backfill "),
)


def demo_env() -> dict[str, str]:
    """This environment without the project's and Airflow's settings: the demo stack's defaults apply."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "AIRFLOW"))}


def run_demo() -> tuple[float, int, list[tuple[float, str]]]:
    """scripts/demo.sh with the demo's defaults: (wall seconds, exit code, (seconds, line) per stderr line)."""
    started = time.monotonic()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(
        ["bash", str(REPO / "scripts" / "demo.sh")],
        cwd=REPO,
        env=demo_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
            print(f"[{lines[-1][0]:6.1f} s] {lines[-1][1]}", flush=True)
        code = process.wait()
    return time.monotonic() - started, code, lines


def seconds_at(lines: list[tuple[float, str]], prefix: str) -> float:
    """When the first line starting with prefix arrived."""
    return next(at for at, line in lines if line.startswith(prefix))


def main() -> int:
    out = REPO / "bench" / "results" / f"demo-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}"
    out.mkdir(parents=True)
    results = Measurements()
    env = demo_env()
    try:
        subprocess.run(["make", "-s", "down"], cwd=REPO, env=env, check=False, capture_output=True)
        cold, cold_code, lines = run_demo()
        results.add("demo", "cold_wall", cold, "s", "make demo from a stopped stack (data and venv kept)")
        previous = 0.0
        for name, prefix in PHASES:
            at = seconds_at(lines, prefix)
            results.add("demo", f"cold_{name.replace(' ', '_')}", at - previous, "s", f"until '{prefix}'")
            previous = at
        results.add("demo", "cold_backfill_to_summary", cold - previous, "s", "backfill, runs, summary")
        warm, warm_code, _ = run_demo()
        results.add("demo", "warm_wall", warm, "s", "make demo with the services up: 30 days to summary")
        results.add("demo", "warm_over_target", warm / TARGET_S, "x", f"target: <= {TARGET_S:.0f} s (ratio <= 1)")
        results.add("demo", "exit_codes", cold_code * 10 + warm_code, "", "cold*10 + warm; 0 = every run succeeded")
    finally:
        subprocess.run(["make", "-s", "down"], cwd=REPO, env=env, check=False, capture_output=True)
    results.write_csv(out / "demo.csv")
    verdict = "met" if results.get("demo", "warm_wall") <= TARGET_S else "**missed**"
    table = "\n".join(
        f"| {r['name']} | {r['value']:,.1f} | {r['unit']} | {r['detail']} |" for r in results.rows
    )
    report = (
        f"# Latest `make bench-demo`\n\nbench/demo_timing.py, {out.name} (CSV beside the report under "
        f"bench/results/, not committed). 2-core machine.\n\n"
        f"- 30 days, services up -> summary printed <= {TARGET_S:.0f} s: "
        f"{results.get('demo', 'warm_wall'):.0f} s -> {verdict}\n"
        f"- whole `make demo` from a stopped stack: {results.get('demo', 'cold_wall'):.0f} s\n\n"
        f"| measurement | value | unit | note |\n|---|---:|---|---|\n{table}\n"
    )
    (out / "demo.md").write_text(report, encoding="utf-8")
    shutil.copyfile(out / "demo.md", REPO / "bench" / "RESULTS-demo.md")
    print(report)
    return 0 if results.get("demo", "exit_codes") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
