"""Statistics after a load: ANALYZE when the table is new or the load moved >= 10% of its rows.

Why it matters both ways: without fresh statistics the first partitions got a nested-loop plan
(25-40 s instead of 0.1 s); with an ANALYZE after every load, a day's cost grew with the table.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from sparkify.project import open_warehouse
from sparkify.warehouse.postgres import ANALYZE_SHARE


def test_analyze_runs_for_new_tables_and_big_loads_only(make_project, tmp_path: Path) -> None:
    project = make_project(tmp_path / "unused")
    with psycopg.connect(project.url) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{project.schema}"')
        conn.execute(f'CREATE TABLE "{project.schema}".probe AS SELECT g AS id FROM generate_series(1, 1000) g')
    warehouse = open_warehouse(project.config)

    assert warehouse.analyze("probe", 1000) is True  # never analysed: reltuples unknown
    # 1000 rows known now: a load below 10% of them leaves the statistics to autoanalyze ...
    assert warehouse.analyze("probe", int(ANALYZE_SHARE * 1000) - 1) is False
    # ... one at or above it refreshes them at once; no row count means always.
    assert warehouse.analyze("probe", int(ANALYZE_SHARE * 1000)) is True
    assert warehouse.analyze("probe") is True
    with psycopg.connect(project.url) as conn:
        reltuples = conn.execute(
            f"SELECT reltuples FROM pg_class WHERE oid = '\"{project.schema}\".probe'::regclass"
        ).fetchone()[0]
    assert reltuples == 1000
