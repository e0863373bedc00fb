"""The late-data sweep's rules without a database: change detection, the window, the re-staged
days' checks, the manifest rows of an empty day, the sweep's config, and how its asset events are emitted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowSkipException
from airflow.sdk.execution_time.context import OutletEventAccessors
from airflow.sdk.execution_time.task_runner import _serialize_outlet_events

from sparkify.assets import STAGING_EVENTS, STAGING_SONGS
from sparkify.config import REPO_ROOT, ConfigError, load_config
from sparkify.publish import emit_partitions, sweep_extras
from sparkify.sweep import (
    EMPTY_DAY_KEY,
    ManifestEntry,
    PartitionChange,
    SweepResult,
    detect_changes,
    manifest_rows,
    restage_check_kwargs,
    sweep_window,
)

A = "log_data/2018/11/2018-11-02-events.json"
B = "log_data/2018/11/2018-11-02-late.json"


class TestDetectChanges:
    def test_unchanged_days_are_not_changes(self) -> None:
        staged = {"2018-11-01": {"a.json": "v1"}, "2018-11-02": {A: "e1", B: "e2"}}
        assert detect_changes(staged, {"2018-11-01": {"a.json": "v1"}, "2018-11-02": {B: "e2", A: "e1"}}) == []

    def test_added_replaced_and_removed_objects_name_their_keys(self) -> None:
        staged = {
            "2018-11-01": {"a.json": "v1"},
            "2018-11-02": {A: "e1"},
            "2018-11-03": {"c.json": "v3", "d.json": "v4"},
        }
        listed = {
            "2018-11-01": {"a.json": "v1", "late.json": "v9"},
            "2018-11-02": {A: "e1-corrected"},
            "2018-11-03": {"c.json": "v3"},
        }
        changes = detect_changes(staged, listed)
        assert changes == [
            PartitionChange("2018-11-01", added=("late.json",), objects_now=2),
            PartitionChange("2018-11-02", replaced=(A,), objects_now=1),
            PartitionChange("2018-11-03", removed=("d.json",), objects_now=1),
        ]
        assert [c.reasons for c in changes] == [["added"], ["replaced"], ["removed"]]
        assert changes[1].summary() == {"replaced": [A]}

    def test_several_reasons_on_one_day(self) -> None:
        change = detect_changes({"d": {"x": "1", "y": "1"}}, {"d": {"x": "2", "z": "1"}})[0]
        assert (change.added, change.replaced, change.removed) == (("z",), ("x",), ("y",))
        assert change.reasons == ["added", "replaced", "removed"]

    def test_a_day_listed_empty_or_not_listed_lost_every_object(self) -> None:
        staged = {"2018-11-01": {"a": "1"}, "2018-11-02": {"b": "1"}}
        changes = detect_changes(staged, {"2018-11-01": {}})
        assert [(c.partition_key, c.removed, c.objects_now) for c in changes] == [
            ("2018-11-01", ("a",), 0),
            ("2018-11-02", ("b",), 0),
        ]

    def test_an_empty_day_marker_is_not_an_object(self) -> None:
        staged = {"2018-11-01": {EMPTY_DAY_KEY: EMPTY_DAY_KEY}}
        assert detect_changes(staged, {"2018-11-01": {}}) == []  # still empty: nothing changed
        late = detect_changes(staged, {"2018-11-01": {"late.json": "v1"}})
        assert late == [PartitionChange("2018-11-01", added=("late.json",), objects_now=1)]

    def test_days_never_staged_are_not_compared(self) -> None:
        assert detect_changes({"2018-11-01": {"a": "1"}}, {"2018-11-01": {"a": "1"}, "2018-11-05": {"e": "1"}}) == []

    def test_changes_come_oldest_day_first(self) -> None:
        staged = {day: {"a": "1"} for day in ("2018-11-03", "2018-11-01", "2018-11-02")}
        assert [c.partition_key for c in detect_changes(staged, {})] == ["2018-11-01", "2018-11-02", "2018-11-03"]


def test_a_day_left_without_objects_is_restaged_only_where_empty_days_are_allowed() -> None:
    gone = PartitionChange("2018-11-01", removed=("a",), objects_now=0)
    fewer = PartitionChange("2018-11-02", removed=("b",), objects_now=1)
    strict = SweepResult(("2018-11-01", "2018-11-02"), ("2018-11-01", "2018-11-02"), 1, (gone, fewer), False)
    assert (strict.to_stage, strict.left_alone) == ([fewer], [gone])
    sparse = SweepResult(("2018-11-01", "2018-11-02"), ("2018-11-01", "2018-11-02"), 1, (gone, fewer), True)
    assert (sparse.to_stage, sparse.left_alone) == ([gone, fewer], [])


class TestWindow:
    def test_lookback_days_end_at_the_newest_staged_day(self) -> None:
        assert sweep_window("2018-11-30", 7) == ("2018-11-24", "2018-11-30")
        assert sweep_window("2018-11-03", 1) == ("2018-11-03", "2018-11-03")

    def test_across_months_and_years(self) -> None:
        assert sweep_window("2019-01-02", 7) == ("2018-12-27", "2019-01-02")
        assert sweep_window("2020-03-01", 2) == ("2020-02-29", "2020-03-01")

    def test_nothing_staged_no_window(self) -> None:
        assert sweep_window(None, 7) is None


def test_an_empty_day_is_recorded_by_its_marker_row() -> None:
    assert manifest_rows([]) == [ManifestEntry(EMPTY_DAY_KEY, EMPTY_DAY_KEY, 0, 0)]
    entries = [ManifestEntry(A, "e1", 10, 1)]
    assert manifest_rows(entries) == entries
    assert entries[0].params("2018-11-02") == {
        "partition_key": "2018-11-02", "source_key": A, "version": "e1", "rows_loaded": 10, "rejected": 1,
    }  # fmt: skip


def test_each_restaged_day_gets_every_staging_check() -> None:
    config = load_config(REPO_ROOT / "config.json")
    staging = config.check_kwargs(config.staging_checks())
    planned = restage_check_kwargs(config, ["2018-11-02", "2018-11-05"])
    assert len(planned) == 2 * len(staging) and staging
    assert [{k: v for k, v in p.items() if k != "partition_key"} for p in planned] == staging + staging
    assert [p["partition_key"] for p in planned] == ["2018-11-02"] * len(staging) + ["2018-11-05"] * len(staging)


class TestSweepConfig:
    def _load(self, tmp_path: Path, sweep: Any) -> Any:
        document = json.loads((REPO_ROOT / "config.json").read_text())
        if sweep is None:
            document["source"].pop("sweep", None)
        else:
            document["source"]["sweep"] = sweep
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document))
        return load_config(path)

    def test_shipped_and_default(self, tmp_path: Path) -> None:
        shipped = load_config(REPO_ROOT / "config.json").source.sweep
        assert (shipped.lookback_days, shipped.schedule) == (7, "0 * * * *")
        default = self._load(tmp_path, None).source.sweep
        assert (default.lookback_days, default.schedule) == (7, "0 * * * *")
        assert self._load(tmp_path, {"lookback_days": 3}).source.sweep.lookback_days == 3

    @pytest.mark.parametrize(
        ("sweep", "problem"),
        [
            ({"schedule": "every hour"}, "$.source.sweep.schedule: 'every hour' is not a cron expression"),
            ({"schedule": "61 * * * *"}, "$.source.sweep.schedule: '61 * * * *' is not a cron expression"),
            ({"lookback_days": 0}, "$.source.sweep.lookback_days"),
            ({"lookback_days": 2.5}, "$.source.sweep.lookback_days"),
            ({"lookback": 7}, "$.source.sweep.lookback: unknown key"),
        ],
    )
    def test_bad_values_fail_with_their_path(self, tmp_path: Path, sweep: dict, problem: str) -> None:
        with pytest.raises(ConfigError) as info:
            self._load(tmp_path, sweep)
        assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


class TestEmitPartitions:
    """Airflow's own outlet accessors and serialisation (what the task runner sends on success)."""

    def test_each_key_becomes_one_event_per_asset(self) -> None:
        outlet_events = OutletEventAccessors()
        result = emit_partitions(outlet_events, [STAGING_EVENTS, STAGING_SONGS], ["2018-11-02", "2018-11-05"], {"n": 1})
        events = list(_serialize_outlet_events(outlet_events))
        emitted = sorted((e["dest_asset_key"]["name"], e["partition_key"], e["extra"]["n"]) for e in events)
        assert emitted == [
            ("staging_events", "2018-11-02", 1),
            ("staging_events", "2018-11-05", 1),
            ("staging_songs", "2018-11-02", 1),
            ("staging_songs", "2018-11-05", 1),
        ]
        assert result["partition_keys"] == ["2018-11-02", "2018-11-05"]

    def test_no_key_emits_nothing(self) -> None:
        """An outlet with no partition added would be emitted with the run's own key: refuse (skip) instead."""
        outlet_events = OutletEventAccessors()
        with pytest.raises(AirflowSkipException):
            emit_partitions(outlet_events, [STAGING_EVENTS, Asset(name="x", uri="sparkify://x")], [], {})
        assert list(_serialize_outlet_events(outlet_events)) == []


def test_sweep_extras_name_each_days_reasons_and_counts() -> None:
    changes = {"2018-11-02": {"replaced": [A]}, "2018-11-03": {"added": [B]}}
    staged = [
        {"partition_key": "2018-11-03", "objects": 2, "rows_loaded": 301, "rejected": 0, "raw_lines": 301},
        {"partition_key": "2018-11-02", "objects": 1, "rows_loaded": 300, "rejected": 1},
    ]
    checked = [{"name": "x", "status": "passed"}, {"name": "y", "status": "warned"}]
    extra = sweep_extras(changes, staged, {"objects_loaded": 0}, checked)
    assert extra["swept_days"] == {
        "2018-11-02": {"replaced": [A], "objects": 1, "rows_loaded": 300, "rejected": 1},
        "2018-11-03": {"added": [B], "objects": 2, "rows_loaded": 301, "rejected": 0},
    }
    assert (extra["songs"], extra["checks_passed"], extra["checks_warned"]) == ({"objects_loaded": 0}, 1, ["y"])
