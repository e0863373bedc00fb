"""Run the staging operator for one partition in a fresh process and report time and peak memory.

Why a separate process: peak RSS (VmHWM) is a high-water mark for the whole process, so
the only way to measure what *one* staging task needs is to run it alone, the way Airflow's
LocalExecutor runs each task in its own process. On Linux the high-water mark is also reset
before execute() (execute_peak_rss_mb), since the imports' peak can hide a smaller one of
execute(). Prints one JSON line on stdout.

    python bench/stage_worker.py --config CONFIG --partition 2018-11-01 [--profile out.prof]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

def peak_rss_kb() -> int:
    """This process's own RSS high-water mark in kB: VmHWM on Linux, else ru_maxrss.

    Why not ru_maxrss on Linux: after fork + exec it starts at the *parent's* peak (the kernel
    carries the pre-exec memory's high-water mark over), so a child of a big parent reports the
    parent's figure (a 400 MB parent: ru_maxrss 410 MB in a 9 MB child).
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB (macOS: bytes)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: clear_refs 5), so it then tells execute's own peak.

    Why: the imports' high-water mark can hide what execute() needs when that is less.
    """
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--partition", required=True)
    parser.add_argument("--profile", help="write a cProfile of execute() to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    from sparkify.operators.ensure_schema import EnsureSchemaOperator
    from sparkify.operators.stage_events import StageEventsOperator

    EnsureSchemaOperator(task_id="ensure_schema", config_path=args.config).execute({})
    rss_before = peak_rss_kb()
    peak_reset = reset_peak_rss()
    rss_at_start = peak_rss_kb()  # after the reset: the current RSS
    operator = StageEventsOperator(task_id="stage_events", partition_key=args.partition, config_path=args.config)
    imported = time.perf_counter()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(operator.execute, {})
        profiler.dump_stats(args.profile)
    else:
        result = operator.execute({})
    done = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = peak_rss_kb()
    print(
        json.dumps(
            {
                "seconds": done - imported,
                "startup_seconds": imported - started,
                "rows": result["rows_loaded"],
                "rejected": result["rejected"],
                "raw_lines": result.get("raw_lines"),
                "blank_lines": result.get("blank_lines"),
                "records": result.get("records"),
                "maxrss_mb": max(rss_before, peak) / 1024,  # the whole process's own peak
                "rss_before_execute_mb": rss_before / 1024,
                "rss_at_execute_start_mb": rss_at_start / 1024 if peak_reset else None,
                "execute_peak_rss_mb": peak / 1024 if peak_reset else None,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
