"""Run the staging operator for one partition in a fresh process and report time and peak memory.

Why a separate process: peak RSS (ru_maxrss) is a high-water mark for the whole process, so
the only way to measure what *one* staging task needs is to run it alone, the way Airflow's
LocalExecutor runs each task in its own process. Prints one JSON line on stdout.

    python bench/stage_worker.py --config CONFIG --partition 2018-11-01 [--profile out.prof]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))


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
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
    print(
        json.dumps(
            {
                "seconds": done - imported,
                "startup_seconds": imported - started,
                "rows": result["rows_loaded"],
                "rejected": result["rejected"],
                "maxrss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
                "rss_before_execute_mb": rss_before / 1024,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
