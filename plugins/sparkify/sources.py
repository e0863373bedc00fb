"""List and read source objects from a local folder or an S3 bucket behind one interface.

The pipeline only needs three things from storage: the objects of one day's partition, the
song catalogue's objects with a version (to skip unchanged files) and a byte stream of each
object. Keeping that surface small lets a folder stand in for S3 on a laptop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sparkify.config import SourceConfig

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceObject:
    """One object: its key relative to the source root and a version that changes with its content."""

    key: str
    size: int
    version: str


class Source(Protocol):
    """What the staging operators need from storage."""

    uri: str

    def list(self, prefix: str) -> list[SourceObject]:
        """Objects whose key starts with prefix, sorted by key."""
        ...

    def read(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks, never the whole object at once."""
        ...


def partition_prefix(events_prefix: str, partition_key: str) -> str:
    """Key prefix of one day's log objects: log_data/YYYY/MM/YYYY-MM-DD."""
    year, month, _ = partition_key.split("-")
    return f"{events_prefix.strip('/')}/{year}/{month}/{partition_key}"


@dataclass(frozen=True, slots=True)
class FolderSource:
    """A local folder laid out like the S3 bucket (song_data/..., log_data/YYYY/MM/...)."""

    uri: str

    def list(self, prefix: str) -> list[SourceObject]:
        root = Path(self.uri)
        directory = prefix.rpartition("/")[0]
        base = root / directory
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            key = path.relative_to(root).as_posix()
            if path.is_file() and key.startswith(prefix):
                stat = path.stat()
                found.append(SourceObject(key, stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}"))
        return sorted(found, key=lambda o: o.key)

    def read(self, key: str) -> Iterator[bytes]:
        with (Path(self.uri) / key).open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk


@dataclass(frozen=True, slots=True)
class S3Source:
    """An S3 (or S3-compatible) bucket/prefix read through the amazon provider's S3Hook."""

    uri: str
    aws_conn_id: str

    def _bucket_prefix(self) -> tuple[str, str]:
        bucket, _, prefix = self.uri.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/")

    def _hook(self):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id)

    def list(self, prefix: str) -> list[SourceObject]:
        bucket, root = self._bucket_prefix()
        full = f"{root}/{prefix}" if root else prefix
        client = self._hook().get_conn()
        found = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full):
            for item in page.get("Contents", []):
                key = item["Key"][len(root) + 1 :] if root else item["Key"]
                found.append(SourceObject(key, int(item["Size"]), item["ETag"].strip('"')))
        return sorted(found, key=lambda o: o.key)

    def read(self, key: str) -> Iterator[bytes]:
        bucket, root = self._bucket_prefix()
        full = f"{root}/{key}" if root else key
        body = self._hook().get_conn().get_object(Bucket=bucket, Key=full)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()


def source_for(config: SourceConfig) -> Source:
    """The Source implementation for a config's uri (s3://... or a folder)."""
    if config.is_s3:
        return S3Source(config.uri, config.aws_conn_id)
    return FolderSource(config.uri)
