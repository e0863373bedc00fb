"""The event manifest and the late-data sweep on the real PostgreSQL and the local S3 API server.

Staging records each day's objects (key, ETag, rows, rejections) with the day; the sweep finds
exactly the days whose objects were added, replaced or removed since, re-staging them changes
only those days, and a sweep that finds nothing writes nothing (statement-level triggers on every
table record any write) and sends one LIST per staged day of its window. Each test uploads its
own copy of the generated days, so tests can replace and delete objects independently.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from sparkify import operators
from sparkify.operators.find_changes import FindChangedPartitionsOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.project import all_tables, open_warehouse
from sparkify.sources import S3Source
from sparkify.sweep import EMPTY_DAY_KEY, SweepResult, find_changes
from tests.integration.conftest import Project, days
from tests.integration.conftest import s3_uploader as _uploader
from tests.sweep_helpers import WriteLog, counting_list_requests, with_one_more_nextsong

DAY_FILE = "log_data/2018/11/{day}-events.json"
#: Sweeps run "today" = the generated data's last day + 1, so the whole window is in the past.
TODAY = dt.date(2018, 11, 4)


@pytest.fixture(scope="module")
def generated(generator: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep-sample")
    generator.generate(
        folder, dt.date(2018, 11, 1), dt.date(2018, 11, 3), users=40, events_per_day=300, songs=40,
        match_share=0.2, seed=11,
    )
    return folder


@dataclass
class Source:
    """One test's copy of the generated days on the local S3 server, and its project."""

    project: Project
    client: Any
    bucket: str
    root: str
    folder: Path

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.root}"

    def put(self, key: str, body: bytes) -> str:
        self.client.put_object(Bucket=self.bucket, Key=f"{self.root}/{key}", Body=body)
        return self.etag(key)

    def etag(self, key: str) -> str:
        return self.client.head_object(Bucket=self.bucket, Key=f"{self.root}/{key}")["ETag"].strip('"')

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"{self.root}/{key}")

    def original(self, day: str) -> bytes:
        return (self.folder / DAY_FILE.format(day=day)).read_bytes()

    def configure(self, **source: Any) -> None:
        document = json.loads(self.project.config_path.read_text())
        document["source"].update(source)
        self.project.config_path.write_text(json.dumps(document))

    def sweep(self, today: dt.date = TODAY) -> tuple[SweepResult, list[str]]:
        """find_changes as the sweep's first task runs it; returns what it found and the LIST prefixes sent."""
        s3 = S3Source(self.uri, "aws_default")
        warehouse = open_warehouse(self.project.config)
        try:
            with counting_list_requests(s3._client) as listed:  # the boto3 client S3Source lists with
                result = find_changes(self.project.config, warehouse, s3, today)
        finally:
            warehouse.close()
        return result, listed

    def restage(self, result: SweepResult) -> list[dict[str, Any]]:
        """What the sweep's mapped stage_events does for each day it found."""
        return [
            StageEventsOperator(
                task_id="stage_events", partition_key=change.partition_key, config_path=str(self.project.config_path)
            ).execute({})
            for change in result.to_stage
        ]

    def manifest(self) -> list[tuple[Any, ...]]:
        return self.project.query(
            "SELECT partition_key, source_key, version, rows_loaded, rejected FROM event_manifest ORDER BY 1, 2"
        )

    def day_checksums(self, table: str) -> dict[str, str]:
        """md5 of each partition's rows of a partitioned table."""
        rows = self.project.query(
            f"SELECT partition_key, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {table} t GROUP BY 1"
        )
        return dict(rows)


@pytest.fixture
def source(make_project: Any, s3_client: Any, bucket: str, generated: Path) -> Source:
    root = f"t-{uuid.uuid4().hex[:8]}"
    uploaded, _, _ = _uploader().upload(generated, f"s3://{bucket}/{root}", "aws_default")
    assert uploaded == len([p for p in generated.rglob("*") if p.is_file()])
    return Source(make_project(f"s3://{bucket}/{root}"), s3_client, bucket, root, generated)


def test_staging_records_each_object_with_its_version_and_counts(source: Source) -> None:
    late = "log_data/2018/11/2018-11-02-a-late.json"  # staged before the day's file (key order)
    bad = b'{"ts": "not a number", "page": "NextSong"}'
    late_etag = source.put(late, with_one_more_nextsong(source.original("2018-11-02")).split(b"\n")[-1] + b"\n" + bad)
    source.project.stage("2018-11-02")
    etag = source.etag(DAY_FILE.format(day="2018-11-02"))
    assert source.manifest() == [
        ("2018-11-02", late, late_etag, 1, 1),  # rows and rejections per object, not running totals
        ("2018-11-02", DAY_FILE.format(day="2018-11-02"), etag, 300, 0),
    ]
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events") == 301

    source.delete(late)  # re-staging replaces the day's manifest rows with the day's objects now
    source.project.stage("2018-11-02")
    assert source.manifest() == [("2018-11-02", DAY_FILE.format(day="2018-11-02"), etag, 300, 0)]


def test_a_replaced_object_restages_exactly_its_day(source: Source) -> None:
    for day in days(1, 3):
        source.project.run([day])
    before = {table: source.day_checksums(table) for table in ("staging_events", "songplays")}
    key = DAY_FILE.format(day="2018-11-02")
    new_etag = source.put(key, with_one_more_nextsong(source.original("2018-11-02")))

    found, listed = source.sweep()
    assert [(c.partition_key, c.reasons, c.replaced) for c in found.changes] == [("2018-11-02", ["replaced"], (key,))]
    assert found.window == ("2018-10-28", "2018-11-03") and len(listed) == 3  # one LIST per staged day
    staged = source.restage(found)
    assert [(s["partition_key"], s["rows_loaded"]) for s in staged] == [("2018-11-02", 301)]
    source.project.transform("2018-11-02")  # what the asset event triggers

    after = {table: source.day_checksums(table) for table in ("staging_events", "songplays")}
    for table in after:  # only the re-staged day changed
        assert after[table]["2018-11-02"] != before[table]["2018-11-02"]
        assert {k: v for k, v in after[table].items() if k != "2018-11-02"} == {
            k: v for k, v in before[table].items() if k != "2018-11-02"
        }
    assert ("2018-11-02", key, new_etag, 301, 0) in source.manifest()
    assert source.sweep()[0].changes == ()  # the manifest now matches: the next sweep finds nothing


def test_an_unchanged_sweep_writes_nothing_and_lists_each_staged_day_once(
    source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in days(1, 3):
        source.project.stage(day)
    log = WriteLog(source.project.url, source.project.schema, all_tables(source.project.config)).install()
    sums = source.project.checksums()
    digest = source.project.scalar("SELECT obj_description(%s::regnamespace)", (source.project.schema,))

    # The sweep's first task as Airflow runs it (its warehouse from the connection, its S3Source
    # counted): nothing changed, so it is skipped, which skips every task after it.
    s3 = S3Source(source.uri, "aws_default")
    monkeypatch.setattr(operators.find_changes, "source_for", lambda _config: s3)
    task = FindChangedPartitionsOperator(task_id="find_changes", config_path=str(source.project.config_path))
    with counting_list_requests(s3._client) as listed, pytest.raises(AirflowSkipException, match="nothing to re-stage"):
        task.execute({})
    task.post_execute({})
    assert sorted(listed) == [f"{source.root}/{DAY_FILE.format(day=day)[:-len('-events.json')]}" for day in days(1, 3)]
    assert log.entries() == []
    assert source.project.checksums() == sums
    assert source.project.scalar("SELECT obj_description(%s::regnamespace)", (source.project.schema,)) == digest

    # The log does see writes: re-staging a changed day shows up in it.
    source.put("log_data/2018/11/2018-11-03-late.json", with_one_more_nextsong(source.original("2018-11-03")))
    source.restage(source.sweep()[0])
    assert {("staging_events", "INSERT"), ("event_manifest", "DELETE"), ("event_manifest", "INSERT")} <= set(
        log.entries()
    )


def test_an_added_then_removed_object_restages_the_day_each_time(source: Source) -> None:
    source.project.run(["2018-11-01"])
    late = "log_data/2018/11/2018-11-01-late.json"
    source.put(late, with_one_more_nextsong(source.original("2018-11-01")).split(b"\n")[-1])

    added, _ = source.sweep()
    assert [(c.partition_key, c.summary()) for c in added.changes] == [("2018-11-01", {"added": [late]})]
    source.restage(added)
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events WHERE source_key = %s", (late,)) == 1

    source.delete(late)
    removed, _ = source.sweep()
    assert [(c.partition_key, c.summary(), c.objects_now) for c in removed.changes] == [
        ("2018-11-01", {"removed": [late]}, 1)
    ]
    source.restage(removed)
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events WHERE source_key = %s", (late,)) == 0
    assert [row[1] for row in source.manifest()] == [DAY_FILE.format(day="2018-11-01")]
    assert source.sweep()[0].changes == ()


def test_a_day_staged_from_no_object_counts_a_later_object_as_added(source: Source) -> None:
    source.configure(allow_empty_partitions=True)
    source.project.stage("2018-11-03")
    empty_day = "2018-11-04"  # nothing under its prefix
    result = StageEventsOperator(
        task_id="stage_events", partition_key=empty_day, config_path=str(source.project.config_path)
    ).execute({})
    assert result["objects"] == 0
    assert (empty_day, EMPTY_DAY_KEY, EMPTY_DAY_KEY, 0, 0) in source.manifest()  # known to be staged, empty

    unchanged, listed = source.sweep()
    assert unchanged.window == ("2018-10-29", "2018-11-04") and unchanged.changes == () and len(listed) == 2

    late = DAY_FILE.format(day=empty_day)
    source.put(late, source.original("2018-11-03"))
    found, _ = source.sweep()
    assert [(c.partition_key, c.summary()) for c in found.to_stage] == [(empty_day, {"added": [late]})]
    source.restage(found)
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (empty_day,)) == 300
    assert [row[1] for row in source.manifest() if row[0] == empty_day] == [late]  # the marker is gone

    source.delete(late)  # and back to empty: allowed here, so the day is re-staged with no rows
    emptied, _ = source.sweep()
    assert [(c.partition_key, c.objects_now) for c in emptied.to_stage] == [(empty_day, 0)]
    source.restage(emptied)
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (empty_day,)) == 0
    assert (empty_day, EMPTY_DAY_KEY, EMPTY_DAY_KEY, 0, 0) in source.manifest()


def test_a_day_that_lost_every_object_is_left_alone_unless_empty_days_are_allowed(source: Source) -> None:
    source.project.stage("2018-11-01")
    source.project.stage("2018-11-02")
    source.delete(DAY_FILE.format(day="2018-11-02"))
    found, _ = source.sweep()
    assert [c.partition_key for c in found.left_alone] == ["2018-11-02"] and found.to_stage == []
    task = FindChangedPartitionsOperator(task_id="find_changes", config_path=str(source.project.config_path))
    with pytest.raises(AirflowSkipException):  # nothing it can re-stage: staging would fail on the empty day
        task.execute({})
    assert source.project.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = '2018-11-02'") == 300


def test_the_window_ends_at_the_newest_staged_day_and_spans_lookback_days(source: Source) -> None:
    source.configure(sweep={"lookback_days": 2, "schedule": "0 * * * *"})
    for day in days(1, 3):
        source.project.stage(day)
    source.put(DAY_FILE.format(day="2018-11-01"), with_one_more_nextsong(source.original("2018-11-01")))
    source.put(DAY_FILE.format(day="2018-11-03"), with_one_more_nextsong(source.original("2018-11-03")))
    found, listed = source.sweep()
    assert found.window == ("2018-11-02", "2018-11-03") and found.days_compared == ("2018-11-02", "2018-11-03")
    assert [c.partition_key for c in found.changes] == ["2018-11-03"]  # 2018-11-01 is outside the window
    assert len(listed) == 2
    # A day staged for a date after today does not move the window: it ends at the newest day up to today.
    as_of_the_2nd, listed = source.sweep(today=dt.date(2018, 11, 2))
    assert as_of_the_2nd.window == ("2018-11-01", "2018-11-02") and len(listed) == 2
    assert [c.partition_key for c in as_of_the_2nd.changes] == ["2018-11-01"]
