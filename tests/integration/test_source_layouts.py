"""Other source layouts (source.events_partition_prefix) end to end through the operators, from the local S3 server.

The same generated days are uploaded in the Udacity layout (the default), Hive-style and flat,
each day with debris under its prefix (a .bak copy, a _SUCCESS marker). Staging, the transform
and the checks must give the same warehouse whatever the layout: the staged rows are identical
apart from their source_key, and every other table is identical.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from types import ModuleType
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config_model import DEFAULT_EVENTS_PARTITION_PREFIX
from sparkify.operators.partition_sensor import PartitionObjectsSensor
from sparkify.source_layout import partition_layout
from tests.integration.conftest import Project, days
from tests.integration.conftest import s3_uploader as _uploader

START, END = dt.date(2018, 11, 1), dt.date(2018, 11, 3)
LAYOUTS = {
    "udacity": DEFAULT_EVENTS_PARTITION_PREFIX,
    "hive": "log_data/year={{ year }}/month={{ month }}/day={{ day }}/",
    "flat": "events/{{ ds }}",
}
#: A staged row without its lineage key, as comparable text.
ROWS_WITHOUT_SOURCE_KEY = "SELECT (to_jsonb(t) - 'source_key')::text AS row FROM staging_events t ORDER BY row"


@pytest.fixture(scope="module")
def uploaded(generator: ModuleType, tmp_path_factory: pytest.TempPathFactory, bucket: str) -> dict[str, Any]:
    """s3://<bucket>/<layout> per layout: the same 3 generated days, plus debris under each day's prefix."""
    uris: dict[str, str] = {}
    for name, template in LAYOUTS.items():
        folder = tmp_path_factory.mktemp(f"layout-{name}")
        counts = generator.generate(
            folder, START, END, users=40, events_per_day=300, songs=40, match_share=0.2, seed=5,
            events_partition_prefix=template,
        )  # fmt: skip
        for day in days(1, 3):
            day_file = generator.day_file(folder, dt.date.fromisoformat(day), template)
            shutil.copy(day_file, f"{day_file}.bak")
            marker = folder / partition_layout(template, "log_data").prefix(day).rstrip("/") / "_SUCCESS"
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("")
        uris[name] = f"s3://{bucket}/{name}"
        _uploader().upload(folder, uris[name], "aws_default")
    return {"uris": uris, "counts": counts}


def project_in(make_project: Any, uri: str, layout: str) -> Project:
    """A project reading uri in one layout (config.json with source.events_partition_prefix set)."""
    project = make_project(uri)
    document = json.loads(project.config_path.read_text())
    document["source"]["events_partition_prefix"] = LAYOUTS[layout]
    project.config_path.write_text(json.dumps(document))
    return project


@pytest.mark.parametrize("layout", ["hive", "flat"])
def test_a_layout_stages_what_the_default_layout_stages(
    make_project: Any, uploaded: dict[str, Any], layout: str
) -> None:
    default = project_in(make_project, uploaded["uris"]["udacity"], "udacity")
    other = project_in(make_project, uploaded["uris"][layout], layout)
    for project in (default, other):
        for key in days(1, 3):
            events = project.stage(key)["events"]
            assert (events["objects"], events["ignored_objects"], events["rejected"]) == (1, 2, 0)
            project.transform(key)

    rows = default.query(ROWS_WITHOUT_SOURCE_KEY)
    assert len(rows) == uploaded["counts"]["events"]
    assert other.query(ROWS_WITHOUT_SOURCE_KEY) == rows
    assert {key for (key,) in other.query("SELECT DISTINCT source_key FROM staging_events")} == {
        partition_layout(LAYOUTS[layout], "log_data").prefix(key)
        + ("events.json" if layout == "hive" else "-events.json")
        for key in days(1, 3)
    }
    sums, other_sums = default.checksums(), other.checksums()
    assert sums.pop("staging_events") != other_sums.pop("staging_events")  # the source keys differ, by design
    assert sums.pop("event_manifest") != other_sums.pop("event_manifest")  # so do the manifest's keys
    assert other_sums == sums
    manifest = "SELECT partition_key, version, rows_loaded, rejected FROM event_manifest ORDER BY partition_key"
    assert other.query(manifest) == default.query(manifest)  # same bytes, same ETags and counts
    assert other.scalar("SELECT COUNT(*) FROM songplays") == uploaded["counts"]["nextsong_with_user"]


def test_the_sensor_and_the_range_of_days_follow_the_layout(make_project: Any, uploaded: dict[str, Any]) -> None:
    project = project_in(make_project, uploaded["uris"]["hive"], "hive")

    def sensor(key: str) -> PartitionObjectsSensor:
        return PartitionObjectsSensor(task_id="wait", partition_key=key, config_path=str(project.config_path))

    assert sensor("2018-11-02").poke({}) is True
    assert sensor("2018-11-04").poke({}) is False
    with pytest.raises(AirflowFailException) as info:
        sensor("2018-11-20")._require_data_for_manual_run()
    message = str(info.value)
    assert "log_data/year=2018/month=11/day=20/*" in message and "holds 2018-11-01..2018-11-03" in message


def test_redshift_copies_the_layouts_objects_through_a_manifest(
    make_project: Any, uploaded: dict[str, Any], s3_client: Any
) -> None:
    """The Redshift adapter lists the Hive-style day and names only its log object in the COPY manifest."""
    from sparkify.warehouse.redshift import RedshiftWarehouse
    from sparkify.warehouse.redshift_sql import CopyOptions
    from tests.unit.test_redshift import RecordingConnection

    uri = uploaded["uris"]["hive"]
    project = project_in(make_project, uri, "hive")
    log: list[tuple[str, Any]] = []
    options = CopyOptions("arn:aws:iam::123456789012:role/copy", "us-west-2", 10, "")
    warehouse = RedshiftWarehouse("rs", "sparkify", options, connect=lambda: RecordingConnection(log, []))
    staged = warehouse.stage_events(project.config, "2018-11-02")

    assert (staged.objects, staged.ignored_objects) == (1, 2)
    bucket_name, _, root = uri.removeprefix("s3://").partition("/")
    manifest_key = f"{root}/_sparkify/manifests/staging_events-2018-11-02.json"
    manifest = json.loads(s3_client.get_object(Bucket=bucket_name, Key=manifest_key)["Body"].read())
    day = f"{uri}/log_data/year=2018/month=11/day=02/"
    assert manifest == {"entries": [{"url": f"{day}events.json", "mandatory": True}]}
    assert any(params and params.get("source_key") == day for _, params in log)


def test_every_layout_holds_the_same_files(uploaded: dict[str, Any], s3_client: Any) -> None:
    """The fixture's premise: the layouts differ in keys only (same log bytes, same songs)."""
    contents = {}
    for name, uri in uploaded["uris"].items():
        bucket_name, _, root = uri.removeprefix("s3://").partition("/")
        listed = s3_client.list_objects_v2(Bucket=bucket_name, Prefix=f"{root}/")["Contents"]
        contents[name] = sorted(
            item["ETag"] for item in listed if not item["Key"].endswith("_SUCCESS") and "/_sparkify/" not in item["Key"]
        )
    assert contents["hive"] == contents["udacity"] == contents["flat"]
