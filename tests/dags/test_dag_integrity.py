"""The three DAGs import cleanly, use the partitioned timetables, and map exactly config.json's entries."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.exceptions import InvalidPartitionKeyError
from airflow.sdk import (
    AssetAll,
    AssetAny,
    CronPartitionTimetable,
    CronTriggerTimetable,
    IdentityMapper,
    MonthWindow,
    PartitionedAssetTimetable,
    RollupMapper,
    StartOfDayMapper,
    StartOfMonthMapper,
    TriggerRule,
    WaitForAll,
)
from airflow.serialization.decoders import decode_partition_mapper
from airflow.serialization.encoders import encode_partition_mapper
from airflow.serialization.serialized_objects import DagSerialization

from sparkify.assets import ROLLUP_REQUESTS, STAGING_EVENTS, STAGING_SONGS, WAREHOUSE_MARTS, WAREHOUSE_ROLLUPS
from sparkify.config import REPO_ROOT, load_config


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"sparkify_staging", "sparkify_transform", "sparkify_rollups", "sparkify_sweep"}


def test_staging_schedule_is_daily_utc_partitions(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_staging"]
    timetable = dag.timetable
    assert isinstance(timetable, CronPartitionTimetable)
    assert timetable.expression == "0 0 * * *"
    assert timetable.key_format == "%Y-%m-%d"
    assert timetable.run_offset == -1
    assert str(timetable.timezone) == "UTC"
    assert dag.catchup is False
    assert dag.start_date.isoformat().startswith("2018-11-01")
    assert dag.tags and dag.doc_md


def test_transform_schedule_is_partitioned_on_both_staging_assets(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_transform"]
    timetable = dag.timetable
    assert isinstance(timetable, PartitionedAssetTimetable)
    mapper = timetable.default_partition_mapper
    assert isinstance(mapper, StartOfDayMapper)  # decodes keys: see the trigger-time test below
    assert (mapper.input_format, mapper.output_format) == ("%Y-%m-%d", "%Y-%m-%d")
    condition = timetable.asset_condition
    assert isinstance(condition, AssetAll)  # both assets required, not either
    assert {asset.name for asset in condition.objects} == {STAGING_EVENTS.name, STAGING_SONGS.name}
    # As the scheduler runs it: a staging key maps to the same key (one transform run per day).
    core = decode_partition_mapper(encode_partition_mapper(mapper))
    assert core.to_downstream("2018-11-05") == "2018-11-05"


@pytest.mark.parametrize(
    ("dag_id", "good", "bad"),
    [
        ("sparkify_staging", "2018-11-05", ["2018-13-45", "2018-11-3x", "2018-11"]),
        ("sparkify_transform", "2018-11-05", ["2018-13-45", "2018-11-3x", "2018-11"]),
        ("sparkify_rollups", "2018-11", ["2018-13", "2018-11-05"]),
    ],
)
def test_the_trigger_refuses_keys_that_are_not_dates(dagbag: DagBag, dag_id: str, good: str, bad: list[str]) -> None:
    """What POST /api/v2/dags/{id}/dagRuns does with a typed partition_key, on the DAG it serves.

    Airflow 3.3's TriggerDAGRunPostBody.validate_context calls
    timetable.resolve_partition_date(partition_key): the staging timetable strptime-s it with its
    key_format, the asset-scheduled ones ask each partition mapper's to_partition_date. A
    ValueError there (InvalidPartitionKeyError) becomes HTTP 400 and no run is created.
    """
    core = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags[dag_id]))
    assert core.timetable.resolve_partition_date(good) is not None
    for key in bad:
        with pytest.raises(InvalidPartitionKeyError):
            core.timetable.resolve_partition_date(key)


def test_staging_publishes_both_assets_after_checks(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_staging"]
    publish = dag.get_task("publish")
    assert {a.name for a in publish.outlets} == {STAGING_EVENTS.name, STAGING_SONGS.name}
    assert "check" in publish.upstream_task_ids
    assert dag.get_task("check").upstream_task_ids == {"stage_events", "stage_songs"}


def _expanded(dag, task_id: str) -> list[dict]:
    task = dag.get_task(task_id)
    assert task.is_mapped
    return list(task.expand_input.value)


def test_transform_requests_a_rolled_up_month_after_publishing(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_transform"]
    request = dag.get_task("request_rollup")
    assert request.upstream_task_ids == {"publish"}
    assert [a.name for a in request.outlets] == [ROLLUP_REQUESTS.name]
    assert ROLLUP_REQUESTS.name not in {a.name for a in dag.get_task("publish").outlets}


def test_transform_maps_exactly_the_configured_dimensions_and_checks(dagbag: DagBag) -> None:
    config = load_config()
    dag = dagbag.dags["sparkify_transform"]
    assert _expanded(dag, "load_dimension") == config.dimension_kwargs()
    assert _expanded(dag, "check") == config.check_kwargs(config.transform_checks())
    assert [d["name"] for d in _expanded(dag, "load_dimension")] == ["users", "songs", "artists", "time"]
    assert dag.get_task("load_dimension").upstream_task_ids == {"load_fact_songplays"}
    assert {a.name for a in dag.get_task("publish").outlets} == {WAREHOUSE_MARTS.name}


def test_staging_maps_exactly_the_staging_checks(dagbag: DagBag) -> None:
    config = load_config()
    dag = dagbag.dags["sparkify_staging"]
    assert _expanded(dag, "check") == config.check_kwargs(config.staging_checks())
    assert {c["table"] for c in _expanded(dag, "check")} <= {"staging_events", "staging_songs"}


def test_mapped_tasks_are_named_by_table_or_check() -> None:
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags")).dags["sparkify_transform"]
    for task_id in ("load_dimension", "check"):
        assert dag.get_task(task_id).partial_kwargs.get("map_index_template") == "{{ task.name }}"


def test_rollup_schedule_waits_for_every_day_of_a_month_of_marts(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_rollups"]
    timetable = dag.timetable
    assert isinstance(timetable, PartitionedAssetTimetable)
    condition = timetable.asset_condition
    assert isinstance(condition, AssetAny)  # all days of a month, or a request for the month
    assert [asset.name for asset in condition.objects] == [WAREHOUSE_MARTS.name, ROLLUP_REQUESTS.name]
    mappers = {asset.name: mapper for asset, mapper in timetable.partition_mapper_config.items()}
    assert isinstance(mappers[ROLLUP_REQUESTS.name], IdentityMapper)  # the request's key is the month
    mapper = mappers[WAREHOUSE_MARTS.name]
    assert isinstance(mapper, RollupMapper)
    assert isinstance(mapper.upstream_mapper, StartOfMonthMapper)
    assert isinstance(mapper.window, MonthWindow)
    assert isinstance(mapper.wait_policy, WaitForAll)
    # Day keys in, month keys out: what the staging timetable writes and the rollup SQL reads.
    assert mapper.upstream_mapper.input_format == "%Y-%m-%d"
    assert mapper.upstream_mapper.output_format == "%Y-%m"
    # As the scheduler runs it (serialised, then decoded into the core mapper).
    core = decode_partition_mapper(encode_partition_mapper(mapper))
    assert core.to_downstream("2018-11-05") == "2018-11"
    assert sorted(core.to_upstream("2018-02")) == [f"2018-02-{day:02d}" for day in range(1, 29)]
    assert dag.max_active_runs == 1  # two runs of one month must not replace its rows at once


def test_rollups_map_exactly_the_configured_rollups_and_their_checks(dagbag: DagBag) -> None:
    config = load_config()
    dag = dagbag.dags["sparkify_rollups"]
    assert _expanded(dag, "load_rollup") == config.rollup_kwargs()
    assert [r["name"] for r in _expanded(dag, "load_rollup")] == ["user_activity_monthly", "song_ranking_monthly"]
    checks = _expanded(dag, "check")
    assert checks == config.check_kwargs(config.rollup_checks())
    assert {c["table"] for c in checks} == {"user_activity_monthly", "song_ranking_monthly"}
    # No rollup check runs in the transform, and every transform check still does.
    transform = _expanded(dagbag.dags["sparkify_transform"], "check")
    assert not {c["name"] for c in checks} & {c["name"] for c in transform}
    assert dag.get_task("check").upstream_task_ids == {"load_rollup"}
    assert {a.name for a in dag.get_task("publish").outlets} == {WAREHOUSE_ROLLUPS.name}
    assert dag.get_task("load_rollup").partial_kwargs.get("map_index_template") == "{{ task.name }}"


def test_sweep_runs_on_the_configured_cron_one_run_at_a_time(dagbag: DagBag) -> None:
    config = load_config()
    dag = dagbag.dags["sparkify_sweep"]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == config.source.sweep.schedule == "0 * * * *"
    assert str(dag.timetable.timezone) == "UTC"
    assert dag.catchup is False
    assert dag.max_active_runs == 1  # two sweeps at once would re-stage the same days twice
    assert dag.tags and dag.doc_md


def test_sweep_restages_the_days_it_finds_and_only_its_publish_emits_both_staging_assets(dagbag: DagBag) -> None:
    dag = dagbag.dags["sparkify_sweep"]
    tasks = {"find_changes", "stage_events", "stage_songs", "plan_checks", "check", "publish"}
    assert {t.task_id for t in dag.tasks} == tasks
    # Every declared outlet gets an event when its task succeeds: only publish may declare any.
    outlets = {t.task_id: {a.name for a in t.outlets} for t in dag.tasks if t.outlets}
    assert outlets == {"publish": {STAGING_EVENTS.name, STAGING_SONGS.name}}
    # Skipping find_changes (nothing changed) skips everything: all of it is downstream, all_success.
    find = dag.get_task("find_changes")
    assert find.get_flat_relative_ids(upstream=False) == {t.task_id for t in dag.tasks} - {"find_changes"}
    assert {TriggerRule(t.trigger_rule) for t in dag.tasks} == {TriggerRule.ALL_SUCCESS}
    # stage_events is mapped over find_changes' days; check over plan_checks' (each staging check per day).
    stage = dag.get_task("stage_events")
    assert stage.is_mapped and (stage.expand_input.value.operator.task_id, stage.expand_input.value.key) == (
        "find_changes", "return_value",
    )  # fmt: skip
    check = dag.get_task("check")
    assert check.is_mapped and check.expand_input.value.operator.task_id == "plan_checks"
    assert {"stage_events", "stage_songs", "plan_checks"} <= check.upstream_task_ids
    assert {"check", "stage_events", "stage_songs", "find_changes"} <= dag.get_task("publish").upstream_task_ids
    assert stage.partial_kwargs.get("map_index_template") == "{{ task.partition_key }}"
