"""Run one configured data-quality check; mapped once per config.json check."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.checks import check_type
from sparkify.operators.base import WarehouseOperator
from sparkify.project import RESULTS_TABLE, model_context
from sparkify.quality import (
    ERROR,
    PASSED,
    WARNED,
    Verdict,
    build_check_sql,
    build_sample_sql,
    format_result,
    judge_row,
    proven_verdict,
    sample_json,
    sample_records,
    share_note,
    status_for,
)
from sparkify.warehouse import Warehouse


class DataQualityCheckOperator(WarehouseOperator):
    """Measure one check, record it in ``dq_results``, and fail (without retry) on an error-severity failure.

    Every execution appends one row to ``dq_results`` (passed, failed, warned or error) with the
    observed number, the rule, up to 10 failing rows as JSON and the duration, and logs the same
    as a readable block, so *why* a check failed is visible without a SQL shell. Failing rows are
    only fetched when the check fails, so passing checks cost a single aggregate query.
    A failing ``warn`` check logs a warning and succeeds, so it never blocks the pipeline.
    A check with ``warn_if``/``error_if`` in its params is judged by those instead of severity
    (error_if matches: failed; else warn_if matches: warned; else passed).
    ``check_sql`` is rendered from the check (``query_sql``) so the UI's Rendered Template tab shows
    the query it runs; values (partition key, accepted values) stay bind parameters.
    """

    template_fields = ("partition_key", "check_sql")
    ui_color = "#fcf3cf"

    def __init__(
        self,
        *,
        name: str,
        table: str,
        check_type: str,
        severity: str = "error",
        scope: str = "table",
        check_params: dict[str, Any] | None = None,
        partition_key: str | None = "{{ partition_key }}",
        check_sql: str = "{{ task.query_sql() }}",
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.name = name
        self.table = table
        self.check_type = check_type
        self.severity = severity
        self.scope = scope
        self.check_params = check_params or {}
        self.partition_key = partition_key
        self.check_sql = check_sql

    def _partition_key(self) -> str | None:
        # Manual runs without a partition render the template as "None" or "".
        return self.partition_key if self.partition_key not in (None, "", "None") else None

    def _query_args(self) -> dict[str, Any]:
        """What build_check_sql/build_sample_sql need besides the check itself."""
        partition_column = self.config.partition_column_of(self.table) if self.scope == "partition" else None
        return {
            "partition_column": partition_column,
            "partition_key": self._partition_key(),
            "tables": model_context(self.config, self.warehouse),
        }

    def query_sql(self) -> str:
        """The check's query as this task runs it (also rendered into ``check_sql``)."""
        this = self.warehouse.table(self.table)
        return build_check_sql(self.check_type, this, self.check_params, **self._query_args()).sql

    def execute(self, context: Any) -> dict[str, Any]:
        started = time.monotonic()
        checked_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        config, warehouse = self.config, self.warehouse
        partition_key = self._partition_key()
        query_args = self._query_args()
        partition_column = query_args["partition_column"]
        this = warehouse.table(self.table)
        # Check SQL comes from config.json and sql/: it runs read-only, one statement, time-limited.
        timeout = config.quality.statement_timeout_seconds
        samples: list[dict[str, Any]] | None = None
        try:
            proof = None
            if check_type(self.check_type).provable:
                proof = warehouse.constraint_proof(
                    self.table, self.check_type, self.check_params["columns"], partition_column
                )
            if proof is not None:
                verdict = proven_verdict(proof)
            else:
                query = build_check_sql(self.check_type, this, self.check_params, **query_args)
                _, rows = warehouse.fetch_read_only(query.sql, query.params, timeout_seconds=timeout)
                verdict = judge_row(self.check_type, rows[0] if rows else None, self.check_params)
            status = status_for(verdict, self.severity)
            if status != PASSED:
                sample = build_sample_sql(self.check_type, this, self.check_params, **query_args)
                if sample is not None:
                    columns, rows = warehouse.fetch_read_only(sample.sql, sample.params, timeout_seconds=timeout)
                    samples = sample_records(columns, rows)
        except Exception as exc:
            # A check that cannot run (bad expression, missing table) is recorded too, then
            # fails the task: retrying the same SQL cannot fix it.
            duration = time.monotonic() - started
            message = f"check {self.name} could not run: {type(exc).__name__}: {exc}"
            verdict = Verdict(False, None, "query error")
            self._record(warehouse, context, checked_at, partition_key, ERROR, verdict, None, duration, message)
            raise AirflowFailException(message) from exc

        duration = time.monotonic() - started
        report = format_result(
            name=self.name,
            check_type=self.check_type,
            table=self.table,
            scope=self.scope,
            partition_key=partition_key,
            severity=self.severity,
            status=status,
            verdict=verdict,
            samples=samples,
            duration_seconds=duration,
        )
        note = share_note(verdict)  # the measured share, next to the rule in dq_results.threshold
        self._record(warehouse, context, checked_at, partition_key, status, verdict, samples, duration, note)
        if status == PASSED:
            self.log.info("%s", report)
        elif status == WARNED:
            self.log.warning("%s", report)
        else:
            self.log.error("%s", report)
            raise AirflowFailException(
                f"data-quality check {self.name} failed: observed {verdict.observed}, expected {verdict.threshold}"
            )
        return {
            "name": self.name,
            "status": status,
            "observed": verdict.observed,
            "expected": verdict.expected,
            "threshold": verdict.threshold,
            "rows_checked": verdict.rows_checked,
            "failing_rows_sampled": len(samples or ()),
        }

    def _record(
        self,
        warehouse: Warehouse,
        context: Any,
        checked_at: dt.datetime,
        partition_key: str | None,
        status: str,
        verdict: Verdict,
        samples: list[dict[str, Any]] | None,
        duration: float,
        message: str | None,
    ) -> None:
        """Append this execution to dq_results (one row per try; it is an audit log)."""
        dag_id, run_id, try_number = _run_identity(context)
        warehouse.insert_row(
            RESULTS_TABLE,
            {
                "checked_at": checked_at,
                "dag_id": dag_id,
                "run_id": run_id,
                "try_number": try_number,
                "partition_key": partition_key,
                "check_name": self.name,
                "check_type": self.check_type,
                "table_name": self.table,
                "scope": self.scope,
                "severity": self.severity,
                "status": status,
                "observed": verdict.observed,
                "expected": verdict.expected,
                "threshold": verdict.threshold,
                "sample_rows": sample_json(samples) if samples is not None else None,
                "duration_seconds": round(duration, 6),
                "message": message[:4000] if message else None,
            },
        )



def _run_identity(context: Any) -> tuple[str, str, int | None]:
    """dag_id, run_id and try number of the running task; 'adhoc' outside a DAG run (tests, scripts)."""
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is not None:
        return ti.dag_id, ti.run_id, getattr(ti, "try_number", None)
    return context.get("dag_id", "adhoc"), context.get("run_id", "adhoc"), context.get("try_number")

