"""config.json's ``alerts``: read into AlertsConfig, absent by default, and every mistake named by its key path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sparkify.config import REPO_ROOT, AlertsConfig, ConfigError, DeadlineConfig, load_config

ALERTS = {
    "conn_id": "sparkify_alerts",
    "to": ["oncall@sparkify.example", "data@sparkify.example"],
    "from_email": "airflow@sparkify.example",
    "events": ["task_failed", "partition_skipped", "deadline_missed", "check_warned"],
    "deadline": {"hours_after_partition_end": 6},
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    monkeypatch.delenv("SPARKIFY_CONFIG", raising=False)


@pytest.fixture
def load(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Any]:
    """Load the shipped config with alerts, after change(alerts) edited them."""

    def _load(change: Callable[[dict[str, Any]], None] = lambda alerts: None) -> Any:
        document = json.loads((REPO_ROOT / "config.json").read_text(encoding="utf-8"))
        document["alerts"] = copy.deepcopy(ALERTS)
        change(document["alerts"])
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return load_config(path)

    return _load


def problems(load: Callable, change: Callable[[dict[str, Any]], None]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(change)
    return list(info.value.problems)


def test_the_shipped_config_has_no_alerts() -> None:
    assert load_config().alerts is None


def test_alerts_are_read(load: Callable) -> None:
    alerts = load().alerts
    assert alerts == AlertsConfig(
        conn_id="sparkify_alerts",
        to=("oncall@sparkify.example", "data@sparkify.example"),
        events=("task_failed", "partition_skipped", "deadline_missed", "check_warned"),
        from_email="airflow@sparkify.example",
        deadline=DeadlineConfig(hours_after_partition_end=6.0, lookback_hours=24.0),
    )


def test_only_some_events_and_no_sender(load: Callable) -> None:
    def change(alerts: dict[str, Any]) -> None:
        alerts.update(events=["task_failed"])
        del alerts["deadline"], alerts["from_email"]

    alerts = load(change).alerts
    assert (alerts.events, alerts.deadline, alerts.from_email) == (("task_failed",), None, None)


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda alerts: alerts.update(values)


def _set_deadline(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda alerts: alerts["deadline"].update(values)


EVENTS = '"task_failed", "partition_skipped", "deadline_missed", "check_warned"'


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.pop("conn_id"), "$.alerts.conn_id: required key is missing"),
        (_set(conn_id="smtp://u:pw@host"), "$.alerts.conn_id: 'smtp://u:pw@host' is not a valid connection id"),
        (_set(password="x"), "$.alerts.password: unknown key (allowed: conn_id, deadline, events, from_email, to)"),
        (_set(to=["oncall"]), "$.alerts.to[0]: 'oncall' is not a valid e-mail address"),
        (_set(to=[]), "$.alerts.to: must not be empty"),
        (_set(from_email="A <a@x.example>"), "$.alerts.from_email: 'A <a@x.example>' is not a valid e-mail address"),
        (_set(events=["task_failed", "task_fail"]), f'$.alerts.events[1]: "task_fail" is not one of {EVENTS}'),
        (_set(events=["check_warned"] * 2), "$.alerts.events: ['check_warned', 'check_warned'] has non-unique"),
        (lambda a: a.pop("deadline"), "$.alerts.deadline: required when alerts.events includes 'deadline_missed'"),
        (_set(events=["task_failed"]), "$.alerts.events: alerts.deadline is set but 'deadline_missed' is not in"),
        (_set_deadline(hours_after_partition_end=-1), "$.alerts.deadline.hours_after_partition_end: -1 is less"),
        (_set_deadline(lookback_hours=0), "$.alerts.deadline.lookback_hours: 0 is less than or equal to the minimum"),
        (lambda a: a["deadline"].clear(), "$.alerts.deadline.hours_after_partition_end: required key is missing"),
    ],
)
def test_each_mistake_is_named_by_its_path(load: Callable, change: Callable, expected: str) -> None:
    found = problems(load, change)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_at_once(load: Callable) -> None:
    def change(alerts: dict[str, Any]) -> None:
        alerts.update(to=["oncall"], events=["paged"])
        del alerts["deadline"]

    assert sorted(p.split(":")[0] for p in problems(load, change)) == ["$.alerts.events[0]", "$.alerts.to[0]"]
