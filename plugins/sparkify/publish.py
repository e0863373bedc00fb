"""Attach run statistics to the asset events a DAG emits.

Asset events are how the transform DAG learns a partition is staged; putting the counts in
their extras makes every event self-describing in the UI and the REST API
(/api/v2/assets/events) without a warehouse query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowSkipException


def set_extras(outlet_events: Any, extras: dict[Asset, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Set each asset's event extra; returns them keyed by asset name (for XCom / logs)."""
    for asset, extra in extras.items():
        outlet_events[asset].extra = extra
    return {asset.name: extra for asset, extra in extras.items()}


def mapped_values(results: Any) -> list[Any]:
    """A mapped task's return values as a list, read in one request.

    Why: what a downstream task receives for a mapped upstream is a lazy sequence of XComs;
    iterating it (or testing its truth) asks the API server for its length and then for each
    value, one Execution API call apiece, while a slice is one call for all of them. None (no
    upstream values) is an empty list; a plain list passes through.
    """
    return [] if results is None else list(results[:])


def check_summary(results: Any) -> dict[str, Any]:
    """Condense the mapped check tasks' return values into an asset-event extra.

    Only checks that did not fail reach the publish task (an error-severity failure stops the
    run before it), so the summary says how many passed and names the ones that only warned.
    ``results`` is the mapped tasks' XCom (a lazy sequence of dicts, or None for an unmapped DAG).
    """
    rows = [r for r in mapped_values(results) if isinstance(r, dict)]
    warned = sorted(str(r.get("name")) for r in rows if r.get("status") == "warned")
    passed = sum(1 for r in rows if r.get("status") == "passed")
    return {"checks_passed": passed, "checks_warned": warned, "checks_total": len(rows)}


def emit_partitions(
    outlet_events: Any, assets: Sequence[Asset], partition_keys: Sequence[str], extra: dict[str, Any]
) -> dict[str, Any]:
    """Emit one event per partition key for each asset, every event carrying ``extra``.

    Why: a task outside the partitioned DAGs (the late-data sweep) re-stages several days in one
    run; ``add_partitions`` turns each key into its own asset event, so the transform gets one
    run per day. Airflow emits an event for every declared outlet of a successful task (keyed by
    the run's own partition key when none is added), so an empty key list is refused here: the
    task is skipped and emits nothing.
    """
    if not partition_keys:
        raise AirflowSkipException("no partition to publish")
    for asset in assets:
        outlet_events[asset].extra = extra
        outlet_events[asset].add_partitions(list(partition_keys))
    return {"partition_keys": list(partition_keys), "assets": [asset.name for asset in assets], **extra}


def sweep_extras(
    changes: Mapping[str, Mapping[str, Any]], staged: Iterable[Any], songs: Mapping[str, Any] | None, checked: Any
) -> dict[str, Any]:
    """The extra of the sweep's staging events: per re-staged day why (object keys by reason) and
    what staging loaded, the song catalogue's counts, and the checks' summary."""
    counts = {extras["partition_key"]: extras for extras in mapped_values(staged) if isinstance(extras, Mapping)}
    days = {
        day: {
            **dict(reasons),
            **{k: counts.get(day, {}).get(k) for k in ("objects", "rows_loaded", "rejected")},
        }
        for day, reasons in changes.items()
    }
    return {"swept_days": days, "songs": dict(songs or {}), **check_summary(checked)}
