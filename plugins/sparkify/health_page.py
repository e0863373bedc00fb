"""The partition health page's content: a status report as JSON and as server-rendered HTML.

Pure functions over sparkify.status_report.StatusReport (the report `make status` prints), so the
page shows what the CLI shows and is unit-tested without a server. No JavaScript: a table and a
GET form are all it needs, and the page renders inside the UI's iframe with nothing to load.

A failed day or month is marked twice, for people and for tests: the row has the CSS class
``failed`` and its status cell says ``FAILED`` (``warned`` / ``WARNED`` for warned checks). Run
cells link to the run in the UI (``/dags/{dag_id}/runs/{run_id}`` under ``[api] base_url``'s
path), opened in the whole window (``target="_top"``), not inside the iframe. Everything shown
comes from the report (keys, counts, check names, run ids and states): no connection, no secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from sparkify.alert_messages import run_url
from sparkify.dag_ids import ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG
from sparkify.partition_status import PartitionCounts, PartitionRow, Run
from sparkify.rollup_status import day_ranges
from sparkify.status_report import MonthRow, StatusReport

TITLE = "Sparkify partition health"


def status_of(failed: bool, counts: PartitionCounts) -> str:
    """'failed', 'warned' (only warned checks) or 'ok': a row's CSS class, and its status cell in capitals."""
    if failed:
        return "failed"
    return "warned" if counts.warned_checks else "ok"


def run_json(dag_id: str, run: Run | None, ui_root: str) -> dict[str, Any] | None:
    """A run cell as JSON: id, state, type and its page in the UI; None when there is no run."""
    if run is None:
        return None
    return {
        "dag_id": dag_id,
        "run_id": run["dag_run_id"],
        "state": run.get("state"),
        "run_type": run.get("run_type"),
        "url": run_url(ui_root, dag_id, run["dag_run_id"]),
    }


def day_json(row: PartitionRow, ui_root: str) -> dict[str, Any]:
    """One day of the grid as JSON (the names the issue asks for: staged, rejected, fact rows, checks, runs)."""
    c = row.counts
    return {
        "partition_key": row.key,
        "status": status_of(row.failed, c),
        "staged": c.staged,
        "rejected": c.rejected,
        "fact_rows": c.fact,
        "checks_failed": list(c.failed_checks),
        "checks_warned": list(c.warned_checks),
        "staging_run": run_json(STAGING_DAG, row.staging_run, ui_root),
        "transform_run": run_json(TRANSFORM_DAG, row.transform_run, ui_root),
    }


def month_json(month: MonthRow, ui_root: str) -> dict[str, Any]:
    """One month as JSON: its rollup's status, the days it waits for, its rollup checks."""
    s = month.status
    return {
        "month": s.month,
        "status": status_of(month.failed, month.counts),
        "days": s.days,
        "days_published": s.published,
        "rollup": s.rollup,
        "waiting_for": list(s.waiting_for),
        "checks_failed": list(month.counts.failed_checks),
        "checks_warned": list(month.counts.warned_checks),
        "rollup_run": run_json(ROLLUP_DAG, month.rollup_run, ui_root),
    }


def report_json(report: StatusReport, ui_root: str = "/") -> dict[str, Any]:
    """The page's data (the JSON endpoint): every day and month of the range, and the summary."""
    return {
        "start": report.start,
        "end": report.end,
        "runs_known": report.runs_known,
        "summary": {
            "days": len(report.days),
            "failed_days": report.failed_days,
            "months": len(report.months),
            "failed_months": report.failed_months,
        },
        "days": [day_json(row, ui_root) for row in report.days],
        "months": [month_json(month, ui_root) for month in report.months],
        "invalid_key_runs": [
            {
                "dag_id": r.dag_id,
                "run_id": r.run_id,
                "partition_key": r.partition_key,
                "state": r.state,
                "run_type": r.run_type,
                "url": run_url(ui_root, r.dag_id, r.run_id),
            }
            for r in report.invalid
        ],
    }


# --- HTML -----------------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1a202c; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; }
form { margin: 8px 0 12px; } input { width: 8em; } .summary { margin: 4px 0; }
table { border-collapse: collapse; } th, td { padding: 3px 8px; border-bottom: 1px solid #e2e8f0; }
th { text-align: left; background: #f7fafc; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed { background: #fde8e8; } tr.failed td.status { color: #c53030; font-weight: 700; }
tr.warned { background: #fefcbf; } tr.warned td.status { color: #975a16; font-weight: 700; }
td.status { color: #276749; } a { color: #2b6cb0; } .muted { color: #718096; }
@media (prefers-color-scheme: dark) {
  body { color: #e2e8f0; background: #1a202c; } th { background: #2d3748; }
  th, td { border-color: #4a5568; } a { color: #90cdf4; }
  tr.failed { background: #63171b; } tr.failed td.status { color: #feb2b2; }
  tr.warned { background: #5f370e; } tr.warned td.status { color: #faf089; } td.status { color: #9ae6b4; }
}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def run_cell_html(dag_id: str, run: Run | None, ui_root: str, known: bool = True) -> str:
    """'success (backfill)' linking to the run's page; '-' without a run, '?' when runs are unknown."""
    if not known:
        return '<span class="muted">?</span>'
    if run is None:
        return '<span class="muted">-</span>'
    url = run_url(ui_root, dag_id, run["dag_run_id"])
    label = f"{run.get('state')} ({run.get('run_type')})"
    return f'<a href="{_e(url)}" target="_top" title="{_e(run["dag_run_id"])}">{_e(label)}</a>'


def _names(names: Iterable[str]) -> str:
    return _e(", ".join(names)) or '<span class="muted">-</span>'


def day_rows_html(report: StatusReport, ui_root: str) -> str:
    """The day grid: one row per partition, its status first."""
    rows = []
    for row in report.days:
        c, status = row.counts, status_of(row.failed, row.counts)
        rows.append(
            f'<tr class="{status}" data-partition="{_e(row.key)}">'
            f"<td>{_e(row.key)}</td>"
            f'<td class="status">{status.upper()}</td>'
            f'<td class="num">{c.staged}</td><td class="num">{c.rejected}</td><td class="num">{c.fact}</td>'
            f"<td>{_names(c.failed_checks)}</td><td>{_names(c.warned_checks)}</td>"
            f"<td>{run_cell_html(STAGING_DAG, row.staging_run, ui_root, report.runs_known)}</td>"
            f"<td>{run_cell_html(TRANSFORM_DAG, row.transform_run, ui_root, report.runs_known)}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>partition</th><th>status</th><th>staged</th><th>rejected</th><th>songplays</th>"
        "<th>checks failed</th><th>checks warned</th><th>last staging run</th><th>last transform run</th></tr>"
    )
    body = "".join(rows) or '<tr><td colspan="9" class="muted">no partition in this range</td></tr>'
    return f'<table id="days"><thead>{head}</thead><tbody>{body}</tbody></table>'


def month_rows_html(report: StatusReport, ui_root: str) -> str:
    """The month table: rollup status, days published and what a pending month waits for."""
    rows = []
    for month in report.months:
        s, status = month.status, status_of(month.failed, month.counts)
        rollup = (
            run_cell_html(ROLLUP_DAG, month.rollup_run, ui_root) if month.rollup_run else _e(s.rollup)
        )
        waiting = f"{len(s.waiting_for)} day(s): {day_ranges(s.waiting_for)}" if s.waiting_for else ""
        rows.append(
            f'<tr class="{status}" data-month="{_e(s.month)}">'
            f"<td>{_e(s.month)}</td>"
            f'<td class="status">{status.upper()}</td>'
            f'<td class="num">{s.published}/{s.days}</td>'
            f"<td>{rollup}</td><td>{_e(waiting) or '<span class=muted>-</span>'}</td>"
            f"<td>{_names(month.counts.failed_checks)}</td><td>{_names(month.counts.warned_checks)}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>month</th><th>status</th><th>days published</th><th>rollup</th><th>waiting for</th>"
        "<th>checks failed</th><th>checks warned</th></tr>"
    )
    empty = "no month in this range" if report.runs_known else "runs unknown"
    body = "".join(rows) or f'<tr><td colspan="7" class="muted">{empty}</td></tr>'
    return f'<table id="months"><thead>{head}</thead><tbody>{body}</tbody></table>'


def invalid_html(report: StatusReport, ui_root: str) -> str:
    """The runs whose key is no partition, apart (as make status lists them); none: nothing."""
    if not report.invalid:
        return ""
    items = "".join(
        f"<li>{_e(r.dag_id)} {_e(repr(r.partition_key) if r.partition_key is not None else '(no key)')} "
        f"{run_cell_html(r.dag_id, {'dag_run_id': r.run_id, 'state': r.state, 'run_type': r.run_type}, ui_root)}</li>"
        for r in report.invalid
    )
    note = "not partitions: they changed nothing and fail no day"
    return f"<h2>Runs with invalid keys</h2><p class=muted>{note}</p><ul id=invalid>{items}</ul>"


def report_html(report: StatusReport, ui_root: str = "/", json_href: str = "health.json") -> str:
    """The whole page: the range form, the summary, the day grid, the month table, invalid-key runs."""
    start, end = report.start or "", report.end or ""
    query = "&".join(f"{k}={v}" for k, v in (("start", start), ("end", end)) if v)
    json_link = json_href + (f"?{query}" if query else "")
    summary = (
        f"{len(report.days)} partition(s), <b>{report.failed_days} failed</b>; "
        f"{len(report.months)} month(s), <b>{report.failed_months} failed</b>"
    )
    if not report.runs_known:
        summary += " (Airflow's runs could not be read: run cells show ?)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title><style>{STYLE}</style></head>
<body>
<h1>{TITLE}</h1>
<form method="get">
  <label>from <input name="start" value="{_e(start)}" placeholder="YYYY-MM[-DD]"></label>
  <label>to <input name="end" value="{_e(end)}" placeholder="YYYY-MM[-DD]"></label>
  <button type="submit">filter</button> <a href="?">all</a> · <a href="{_e(json_link)}">JSON</a>
</form>
<p class="summary" id="summary">{summary}</p>
<h2>Days</h2>
{day_rows_html(report, ui_root)}
<h2>Months (rollups)</h2>
{month_rows_html(report, ui_root)}
{invalid_html(report, ui_root)}
</body></html>
"""
