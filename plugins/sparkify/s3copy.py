"""Staging for warehouses that COPY straight from S3 (Redshift): the Python parser is skipped.

The operators call these when ``warehouse.copies_from_s3`` is true. Listing still goes through
the S3 source (a missing partition fails naming its prefix, the song manifest compares ETags);
the pipeline uploads the JSONPaths files (generated from the column mapping, a pure function)
and, for songs, a COPY manifest naming exactly the new or changed objects.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import Config
from sparkify.sources import S3Source, partition_objects, partition_prefix, source_for
from sparkify.warehouse import EVENT_JSON_FIELDS, SONG_JSON_FIELDS, build_jsonpaths

#: Objects per COPY manifest: one COPY (one transaction) per batch keeps reruns cheap.
SONG_BATCH_OBJECTS = 5000


def build_copy_manifest(urls: list[str]) -> dict[str, Any]:
    """A Redshift COPY manifest: every listed object must exist (mandatory), nothing else loads."""
    return {"entries": [{"url": url, "mandatory": True} for url in urls]}


def _s3_source(config: Config) -> S3Source:
    source = source_for(config.source)
    if not isinstance(source, S3Source):
        raise AirflowFailException(
            f"the warehouse COPYs from S3 but source.uri is {config.source.uri!r}: use an s3:// source"
        )
    return source


def _put_json(source: S3Source, uri: str, document: dict[str, Any]) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = json.dumps(document).encode()
    source._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def stage_events_by_copy(warehouse: Any, config: Config, partition_key: str) -> dict[str, Any]:
    """Replace one partition with COPY of the day's log objects (a COPY manifest); returns the counts.

    The manifest names exactly the objects that match the day's pattern, so debris under the
    prefix (a .bak copy, a .tmp upload) is not loaded, as on the Python path.
    """
    source = _s3_source(config)
    listing = partition_objects(source, config.source, partition_key)
    table = config.staging.events_table
    if not listing.objects:  # allowed empty partition: COPY would fail on an empty manifest
        warehouse.clear_partition(table, "rejected_lines", partition_key)
        return {"partition_key": partition_key, "objects": 0, "rows_loaded": 0, "rejected": 0}
    jsonpaths = warehouse.jsonpaths_location(config.source.uri, table)
    _put_json(source, jsonpaths, build_jsonpaths(EVENT_JSON_FIELDS))
    root = config.source.uri.rstrip("/")
    manifest_uri = f"{jsonpaths.rsplit('/', 2)[0]}/manifests/{table}-{partition_key}.json"
    _put_json(source, manifest_uri, build_copy_manifest([f"{root}/{obj.key}" for obj in listing.objects]))
    prefix_uri = f"{root}/{partition_prefix(config.source.events_prefix, partition_key)}"
    loaded = warehouse.copy_events_partition(
        table, "rejected_lines", partition_key, prefix_uri, jsonpaths, copy_manifest_uri=manifest_uri
    )
    row = warehouse.fetch_one(
        f"SELECT COUNT(*) FROM {warehouse.table('rejected_lines')} WHERE partition_key = %(partition_key)s",
        {"partition_key": partition_key},
    )
    return {
        "partition_key": partition_key,
        "objects": len(listing.objects),
        "ignored_objects": len(listing.ignored),
        "rows_loaded": loaded,
        "rejected": int(row[0]) if row else 0,
    }


def stage_songs_by_copy(warehouse: Any, config: Config) -> dict[str, Any]:
    """COPY the new or changed song objects (key + ETag vs load_manifest) in manifest batches."""
    source = _s3_source(config)
    listed = source.list(config.source.songs_prefix.strip("/") + "/")
    known = warehouse.loaded_versions("load_manifest")
    pending = [obj for obj in listed if known.get(obj.key) != obj.version]
    table = config.staging.songs_table
    jsonpaths = warehouse.jsonpaths_location(config.source.uri, table)
    root = config.source.uri.rstrip("/")
    loaded = 0
    if pending:
        _put_json(source, jsonpaths, build_jsonpaths(SONG_JSON_FIELDS))
    for start in range(0, len(pending), SONG_BATCH_OBJECTS):
        batch = pending[start : start + SONG_BATCH_OBJECTS]
        manifest_uri = f"{jsonpaths.rsplit('/', 2)[0]}/manifests/{table}-{batch[0].version}-{len(batch)}.json"
        _put_json(source, manifest_uri, build_copy_manifest([f"{root}/{obj.key}" for obj in batch]))
        loaded += warehouse.copy_song_objects(
            table, "load_manifest", [(obj.key, obj.version) for obj in batch], manifest_uri, jsonpaths
        )
    return {"objects_listed": len(listed), "objects_loaded": len(pending), "rows_loaded": loaded, "rejected": 0}
