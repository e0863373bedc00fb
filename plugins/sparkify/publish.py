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
