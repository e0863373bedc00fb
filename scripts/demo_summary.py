#!/usr/bin/env python3
"""Summary printed at the end of `make demo`.

TODO(pipeline owner): wait until every staging and asset-triggered transform run has finished;
print rows per table, checks passed/failed, rejected lines; exit non-zero if any run failed.
For now: runs per DAG and their states (through scripts/airflow_api.py), the UI and warehouse URLs.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import airflow_api

DAG_IDS = ("sparkify_staging", "sparkify_transform")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start")
    parser.add_argument("--end")
    args = parser.parse_args(argv)

    failed = 0
    print(f"Runs ({args.start}..{args.end}):")
    for dag_id in DAG_IDS:
        runs = airflow_api.list_dag_runs(dag_id)
        states = collections.Counter(run["state"] for run in runs)
        failed += states.get("failed", 0)
        detail = ", ".join(f"{state} {n}" for state, n in sorted(states.items())) or "none"
        print(f"  {dag_id:<20} {len(runs):>4} runs: {detail}")
    print(
        f"Airflow UI:  {os.environ.get('AIRFLOW__API__BASE_URL', airflow_api.base_url())}"
        f"  (user {airflow_api.admin_user()}, password in {airflow_api.passwords_file()})"
    )
    print(f"Warehouse:   {os.environ.get('SPARKIFY_WAREHOUSE_URL_MASKED', '?')}  (make psql)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
