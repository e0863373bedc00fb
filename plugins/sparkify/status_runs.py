"""The partition DAGs' runs from Airflow's metadata database, for the health page in the API server.

Why not the REST API there: the page runs inside the API server, next to the database the REST
API itself reads; one SELECT of five columns is cheaper than paging every run through JSON to
itself. The rows come out in the REST API's shape (``dag_run_id``, ``state``, ``run_type``,
``partition_key``, ``end_date``; oldest first, as ``order_by=id`` lists them), so the report
(sparkify.status_report) is built by the same code from either source; `make status`, a client
outside the server, reads them over REST (scripts/sparkify_stack/airflow_api.list_dag_runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from sparkify.partition_status import Run


def _text(value: Any) -> Any:
    """An enum's value (DagRunState, DagRunType are str enums), anything else as it is."""
    return value.value if isinstance(value, Enum) else value


def run_dict(dag_id: str, run_id: str, state: Any, run_type: Any, partition_key: str | None, end_date: Any) -> Run:
    """One run as the REST API shows it (the fields the report reads)."""
    return {
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "state": _text(state),
        "run_type": _text(run_type),
        "partition_key": partition_key,
        "end_date": end_date.isoformat() if end_date is not None else None,
    }


def runs_from_metadata(session: Any, dag_ids: Iterable[str]) -> dict[str, list[Run]]:
    """dag_id -> every run of it, oldest first, read with the caller's SQLAlchemy session."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    wanted = list(dag_ids)
    runs: dict[str, list[Run]] = {dag_id: [] for dag_id in wanted}
    query = (
        select(DagRun.dag_id, DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.partition_key, DagRun.end_date)
        .where(DagRun.dag_id.in_(wanted))
        .order_by(DagRun.id)
    )
    for row in session.execute(query):
        runs[row.dag_id].append(run_dict(*row))
    return runs
