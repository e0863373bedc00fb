"""The S3 source against the local S3 API server (weed mini): real HTTP, real SigV4.

scripts/test.sh starts the server (scripts/s3.sh) and env.sh exports its endpoint and the
aws_default connection (endpoint_url + path-style in the extra). Each test module uses its own
bucket, so runs never see each other's objects.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sparkify import sources
from sparkify.config import SourceConfig
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.operators.stage_songs import StageSongsOperator
from sparkify.sources import MissingPartitionError, S3Source, SourceAccessError, partition_prefix
from tests.integration.conftest import days
from tests.integration.conftest import s3_uploader as _uploader

START, END = dt.date(2018, 11, 1), dt.date(2018, 11, 3)


@pytest.fixture(scope="module")
def sample(generator: ModuleType, tmp_path_factory: pytest.TempPathFactory, bucket: str) -> tuple[Path, str, dict]:
    """3 generated days, as a folder and uploaded to s3://<bucket>/sparkify (scripts/s3_upload.py)."""
    folder = tmp_path_factory.mktemp("s3-sample")
    counts = generator.generate(folder, START, END, users=40, events_per_day=300, songs=40, match_share=0.2, seed=11)
    uri = f"s3://{bucket}/sparkify"
    uploaded, skipped, _ = _uploader().upload(folder, uri, "aws_default")
    assert (uploaded, skipped) == (len([p for p in folder.rglob("*") if p.is_file()]), 0)
    return folder, uri, counts


def test_list_and_stream_a_partition(sample: tuple[Path, str, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, uri, _ = sample
    source = S3Source(uri, "aws_default")
    prefix = partition_prefix(SourceConfig(uri, "aws_default", "log_data", "song_data", 1.0), "2018-11-02")
    objects = source.list(prefix)
    assert [o.key for o in objects] == ["log_data/2018/11/2018-11-02-events.json"]
    local = (folder / objects[0].key).read_bytes()
    assert objects[0].size == len(local)
    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    chunks = list(source.read(objects[0].key))
    assert len(chunks) > 3 and all(len(c) <= 4096 for c in chunks)  # streamed, not one whole-object read
    assert b"".join(chunks) == local


def test_reupload_keeps_etags(sample: tuple[Path, str, dict]) -> None:
    folder, uri, _ = sample
    assert _uploader().upload(folder, uri, "aws_default")[0] == 0  # nothing changed: no object rewritten


def test_wrong_credentials_fail_clearly(sample: tuple[Path, str, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    _, uri, _ = sample
    good = json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])
    bad = {**good, "password": "not-the-secret-" + uuid.uuid4().hex}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_WRONG", json.dumps(bad))
    with pytest.raises(SourceAccessError) as info:
        S3Source(uri, "aws_wrong").list("log_data/")
    message = str(info.value)
    assert "SignatureDoesNotMatch" in message and "'aws_wrong'" in message and uri.removeprefix("s3://") in message
    assert bad["password"] not in message and good["login"] not in message


def test_missing_bucket_fails_clearly() -> None:
    with pytest.raises(SourceAccessError, match="NoSuchBucket"):
        S3Source(f"s3://no-such-{uuid.uuid4().hex[:10]}", "aws_default").list("log_data/")


def test_missing_partition_names_its_prefix(make_project: Any, sample: tuple[Path, str, dict]) -> None:
    _, uri, _ = sample
    project = make_project(uri)
    with pytest.raises(MissingPartitionError) as info:
        StageEventsOperator(task_id="t", partition_key="2018-11-20", config_path=str(project.config_path)).execute({})
    assert f"{uri}/log_data/2018/11/2018-11-20" in str(info.value)


def test_allowed_empty_partition_stages_zero_rows(make_project: Any, sample: tuple[Path, str, dict]) -> None:
    _, uri, _ = sample
    project = make_project(uri)
    document = json.loads(project.config_path.read_text())
    document["source"]["allow_empty_partitions"] = True
    project.config_path.write_text(json.dumps(document))
    project.stage("2018-11-01")
    result = StageEventsOperator(
        task_id="t", partition_key="2018-11-20", config_path=str(project.config_path)
    ).execute({})
    assert (result["objects"], result["rows_loaded"], result["rejected"]) == (0, 0, 0)


def test_song_manifest_skips_unchanged_and_reloads_changed(
    make_project: Any, sample: tuple[Path, str, dict], s3_client: Any
) -> None:
    folder, uri, counts = sample
    project = make_project(uri)
    project.stage("2018-11-01")
    stage = StageSongsOperator(task_id="s", config_path=str(project.config_path))
    again = stage.execute({})
    assert (again["objects_listed"], again["objects_loaded"]) == (counts["songs"], 0)

    key = sorted(p.relative_to(folder).as_posix() for p in (folder / "song_data").rglob("*.json"))[0]
    record = json.loads((folder / key).read_text())
    record["title"] = "Changed Title"
    bucket, prefix = uri.removeprefix("s3://").split("/", 1)
    s3_client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=json.dumps(record).encode())
    try:
        changed = stage.execute({})
        assert changed["objects_loaded"] == 1 and changed["rows_loaded"] == 1
        assert project.scalar("SELECT title FROM staging_songs WHERE source_key = %s", (key,)) == "Changed Title"
        assert project.scalar("SELECT COUNT(*) FROM staging_songs") == counts["songs"]
        etag = s3_client.head_object(Bucket=bucket, Key=f"{prefix}/{key}")["ETag"].strip('"')
        assert project.scalar("SELECT version FROM load_manifest WHERE source_key = %s", (key,)) == etag
        assert stage.execute({})["objects_loaded"] == 0
    finally:  # restore the shared sample for the other tests
        s3_client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=(folder / key).read_bytes())


def test_three_days_from_s3_equal_the_folder_load(make_project: Any, sample: tuple[Path, str, dict]) -> None:
    """End to end through the operators: the s3:// source gives the very same warehouse as the folder."""
    folder, uri, counts = sample
    from_s3 = make_project(uri)
    from_s3.run(days(1, 3))
    from_folder = make_project(folder)
    from_folder.run(days(1, 3))
    assert from_s3.scalar("SELECT COUNT(*) FROM staging_events") == counts["events"]
    assert from_s3.scalar("SELECT COUNT(*) FROM songplays") == counts["nextsong_with_user"]
    s3_sums, folder_sums = from_s3.checksums(), from_folder.checksums()
    # The manifests' versions differ by design (ETag vs size-mtime); every other table is identical.
    for manifest in ("load_manifest", "event_manifest"):
        s3_sums.pop(manifest)
        folder_sums.pop(manifest)
    assert s3_sums == folder_sums
    objects = "SELECT partition_key, source_key, rows_loaded, rejected FROM event_manifest ORDER BY 1, 2"
    assert from_s3.query(objects) == from_folder.query(objects)


def test_redshift_staging_copies_exactly_the_days_objects_through_a_manifest(
    make_project: Any, sample: tuple[Path, str, dict], s3_client: Any
) -> None:
    """The Redshift adapter lists the day on S3, uploads its JSONPaths and a COPY manifest naming only
    the day's log objects (debris under the prefix is left out) with S3Hook, and COPYs from that
    manifest. The warehouse side is recorded (no Redshift here); S3 is the real local server."""
    from sparkify.warehouse.redshift import RedshiftWarehouse
    from sparkify.warehouse.redshift_sql import CopyOptions
    from tests.unit.test_redshift import RecordingConnection

    _, uri, _ = sample
    bucket, _, root = uri.removeprefix("s3://").partition("/")
    debris = f"{root}/log_data/2018/11/2018-11-02-events.json.bak"
    s3_client.put_object(Bucket=bucket, Key=debris, Body=b"{}")
    project = make_project(uri)
    log: list[tuple[str, Any]] = []
    options = CopyOptions("arn:aws:iam::123456789012:role/copy", "us-west-2", 10, "")
    warehouse = RedshiftWarehouse("rs", "sparkify", options, connect=lambda: RecordingConnection(log, []))
    try:
        staged = warehouse.stage_events(project.config, "2018-11-02")
    finally:
        s3_client.delete_object(Bucket=bucket, Key=debris)

    assert (staged.objects, staged.ignored_objects) == (1, 1)
    manifest_key = f"{root}/_sparkify/manifests/staging_events-2018-11-02.json"
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert manifest == {"entries": [{"url": f"{uri}/log_data/2018/11/2018-11-02-events.json", "mandatory": True}]}
    jsonpaths = json.loads(
        s3_client.get_object(Bucket=bucket, Key=f"{root}/_sparkify/jsonpaths/staging_events.json")["Body"].read()
    )
    assert "$['ts']" in jsonpaths["jsonpaths"]
    copy = next(sql for sql, _ in log if sql.startswith("COPY"))
    assert f"FROM 's3://{bucket}/{manifest_key}'" in copy and "MANIFEST" in copy
