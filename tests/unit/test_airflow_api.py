"""Health reading of scripts/sparkify_stack/airflow_api.py that `airflow.sh recover` acts on."""

from __future__ import annotations

import datetime as dt

from sparkify_stack import airflow_api

SINCE = dt.datetime(2026, 12, 6, 22, 1, 40, tzinfo=dt.UTC)


def health_with(scheduler: str, triggerer: str, dag_processor: str) -> dict:
    return {
        "metadatabase": {"status": "healthy"},
        "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": scheduler},
        "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": triggerer},
        "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": dag_processor},
    }


def test_a_component_silent_since_the_outage_is_stale_once_the_grace_passed(monkeypatch) -> None:
    # What CI saw: the scheduler left its loop before the outage ended, the others beat again.
    document = health_with("2026-12-06T22:01:39+00:00", "2026-12-06T22:04:39+00:00", "2026-12-06T22:04:40+00:00")
    monkeypatch.setattr(airflow_api, "health", lambda: document)
    early, late = SINCE + dt.timedelta(seconds=59), SINCE + dt.timedelta(seconds=61)
    assert airflow_api.stale_components(SINCE, grace=60, now=early) == []  # too early to tell
    assert airflow_api.stale_components(SINCE, grace=60, now=late) == ["scheduler"]


def test_components_that_beat_after_the_outage_or_never_did(monkeypatch) -> None:
    document = health_with("2026-12-06T22:01:41+00:00", "", "2026-12-06T22:01:40+00:00")
    monkeypatch.setattr(airflow_api, "health", lambda: document)
    # a beat at `since` counts; a missing heartbeat is silence (as dag-processor is named by airflow.sh)
    assert airflow_api.stale_components(SINCE, now=SINCE + dt.timedelta(minutes=5)) == ["triggerer"]
