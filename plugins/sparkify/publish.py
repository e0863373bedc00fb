"""Attach run statistics to the asset events a DAG emits.

Asset events are how the transform DAG learns a partition is staged; putting the counts in
their extras makes every event self-describing in the UI and the REST API
(/api/v2/assets/events) without a warehouse query.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset


def set_extras(outlet_events: Any, extras: dict[Asset, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Set each asset's event extra; returns them keyed by asset name (for XCom / logs)."""
    for asset, extra in extras.items():
        outlet_events[asset].extra = extra
    return {asset.name: extra for asset, extra in extras.items()}


def check_summary(results: Any) -> dict[str, Any]:
    """Condense the mapped check tasks' return values into an asset-event extra.

    Only checks that did not fail reach the publish task (an error-severity failure stops the
    run before it), so the summary says how many passed and names the ones that only warned.
    ``results`` is the mapped tasks' XCom (a lazy sequence of dicts, or None for an unmapped DAG).
    """
    rows = [r for r in (results or []) if isinstance(r, dict)]
    warned = sorted(str(r.get("name")) for r in rows if r.get("status") == "warned")
    passed = sum(1 for r in rows if r.get("status") == "passed")
    return {"checks_passed": passed, "checks_warned": warned, "checks_total": len(rows)}
