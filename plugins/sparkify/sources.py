"""List and read source objects from a local folder or an S3 bucket behind one interface.

The pipeline only needs three things from storage: the objects of one day's partition, the
song catalogue's objects with a version (to skip unchanged files) and a byte stream of each
object. Keeping that surface small lets a folder stand in for S3 on a laptop.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import SourceConfig
from sparkify.source_layout import is_event_object, layout_of

CHUNK_BYTES = 1 << 20
#: Chunks an S3 read may fetch ahead of the parser (memory: this many x CHUNK_BYTES at most).
PREFETCH_CHUNKS = 4
_END = object()

#: S3 error codes that retrying cannot fix: wrong keys, no permission, no such bucket/key.
_PERMANENT_S3_ERRORS = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "NoSuchBucket",
        "NoSuchKey",
        "AllAccessDisabled",
    }
)


class SourceAccessError(AirflowFailException):
    """The store refused a request for a reason a retry cannot fix (credentials, permissions, bucket).

    An AirflowFailException so the task fails at once instead of burning its retries; the
    message names the connection id and the location, never the credentials.
    """


class MissingPartitionError(AirflowFailException):
    """No object exists under a partition's prefix (and the source does not allow empty partitions)."""


#: source_key columns are VARCHAR(1024).
MAX_STORED_KEY = 1024


def storable_key(key: str) -> str:
    """The key as stored in source_key columns: the key itself when it fits and is valid UTF-8.

    Why: a folder may hold file names that are not UTF-8 (decoded with surrogate escapes) and a
    store may allow keys longer than the column; either would make the COPY fail the partition.
    Such keys are stored escaped (undecodable bytes as \\xNN), cut to fit, and suffixed with the
    SHA-256 of the real key, so the stored key stays unique per object and stable across runs.
    """
    try:
        key.encode("utf-8")
        if len(key) <= MAX_STORED_KEY and "\x00" not in key:
            return key
    except UnicodeEncodeError:
        pass
    try:
        real = key.encode("utf-8", "surrogateescape")  # a folder's undecodable file-name bytes
    except UnicodeEncodeError:
        real = key.encode("utf-8", "surrogatepass")
    escaped = real.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    suffix = f"#sha256:{hashlib.sha256(real).hexdigest()[:16]}"
    return escaped[: MAX_STORED_KEY - len(suffix)] + suffix


@dataclass(frozen=True, slots=True)
class SourceObject:
    """One object: its key relative to the source root and a version that changes with its content."""

    key: str
    size: int
    version: str

    @property
    def stored_key(self) -> str:
        """The key as the warehouse stores it (lineage, manifest): see storable_key."""
        return storable_key(self.key)


@dataclass(frozen=True, slots=True)
class PartitionListing:
    """A day's log objects to stage, and the other objects found under its prefix (never staged)."""

    objects: list[SourceObject]
    ignored: list[SourceObject]


class Source(Protocol):
    """What the staging operators need from storage."""

    uri: str

    def list(self, prefix: str) -> list[SourceObject]:
        """Objects whose key starts with prefix, sorted by key."""
        ...

    def read(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks, never the whole object at once."""
        ...


def partition_prefix(config: SourceConfig, partition_key: str) -> str:
    """Key prefix of one day's log objects: source.events_partition_prefix rendered for the day.

    The one place a day's prefix is computed (sensor, staging, Redshift COPY); the layout and the
    day's object filter (is_event_object) live in sparkify.source_layout.
    """
    return layout_of(config).prefix(partition_key)


def list_partition(source: Source, config: SourceConfig, partition_key: str) -> PartitionListing:
    """The day's log objects and the ignored rest under its prefix (no failure when empty)."""
    prefix = partition_prefix(config, partition_key)
    listed = source.list(prefix)
    objects = [obj for obj in listed if is_event_object(obj.key, prefix)]
    return PartitionListing(objects, [obj for obj in listed if obj not in objects])


def partition_objects(source: Source, config: SourceConfig, partition_key: str) -> PartitionListing:
    """The objects of one day's partition; none fails naming the prefix, unless allowed.

    With ``source.allow_empty_partitions`` an empty day is legitimate (a sparse source): the
    caller stages 0 rows, so the partition still replaces its old rows and emits its assets.
    """
    listing = list_partition(source, config, partition_key)
    if not listing.objects and not config.allow_empty_partitions:
        prefix = partition_prefix(config, partition_key)
        ignored = (
            f" ({len(listing.ignored)} other object(s) ignored: not a .json object directly after the prefix)"
            if listing.ignored
            else ""
        )
        raise MissingPartitionError(
            f"partition {partition_key}: no log objects under {source.uri.rstrip('/')}/{prefix}*{ignored} "
            "(set source.allow_empty_partitions to stage such days as empty)"
        )
    return listing


@dataclass(frozen=True, slots=True)
class FolderSource:
    """A local folder laid out like the S3 bucket (song_data/..., the events' layout)."""

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


@dataclass(frozen=True)
class S3Source:
    """An S3 (or S3-compatible) bucket/prefix read through the amazon provider's S3Hook.

    The connection (``aws_conn_id``) carries the credentials and, for a local or third-party
    store, ``endpoint_url`` and path-style addressing in its extra; nothing here knows which
    store it talks to. One boto3 client per instance: a catalogue of thousands of songs must
    not build a client (and re-read the connection) per object.
    """

    uri: str
    aws_conn_id: str

    def _bucket_prefix(self) -> tuple[str, str]:
        bucket, _, prefix = self.uri.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/")

    @cached_property
    def _client(self) -> Any:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id).get_conn()

    def _full_key(self, key: str) -> str:
        root = self._bucket_prefix()[1]
        return f"{root}/{key}" if root else key

    def _fail(self, exc: Exception, action: str, location: str) -> Exception:
        """A SourceAccessError for permanent S3 errors (clear message), else the original error."""
        from botocore.exceptions import ClientError, NoCredentialsError

        if isinstance(exc, NoCredentialsError):
            return SourceAccessError(
                f"{action} {location}: no AWS credentials in connection {self.aws_conn_id!r} or the environment"
            )
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _PERMANENT_S3_ERRORS:
                hint = {
                    "SignatureDoesNotMatch": "the secret key does not match the access key",
                    "InvalidAccessKeyId": "the access key is unknown to the store",
                    "NoSuchBucket": "the bucket does not exist",
                    "NoSuchKey": "the object does not exist",
                }.get(code, "check the connection's credentials and the bucket policy")
                return SourceAccessError(
                    f"{action} {location} with connection {self.aws_conn_id!r} failed: {code} ({hint})"
                )
        return exc

    def list(self, prefix: str) -> list[SourceObject]:
        """Objects under prefix, with the ETag as version (changes whenever the content does)."""
        bucket, root = self._bucket_prefix()
        full = self._full_key(prefix)
        found = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full):
                for item in page.get("Contents", []):
                    key = item["Key"][len(root) + 1 :] if root else item["Key"]
                    found.append(SourceObject(key, int(item["Size"]), item["ETag"].strip('"')))
        except Exception as exc:
            raise self._fail(exc, "listing", f"s3://{bucket}/{full}") from exc
        return sorted(found, key=lambda o: o.key)

    def read(self, key: str) -> Iterator[bytes]:
        """Stream the object in CHUNK_BYTES pieces from the HTTP body (never the whole object)."""
        bucket, _ = self._bucket_prefix()
        full = self._full_key(key)
        try:
            body = self._client.get_object(Bucket=bucket, Key=full)["Body"]
        except Exception as exc:
            raise self._fail(exc, "reading", f"s3://{bucket}/{full}") from exc
        yield from prefetched(_body_chunks(body))


def _body_chunks(body: Any) -> Iterator[bytes]:
    """CHUNK_BYTES pieces of an HTTP body, closing it however the iteration ends."""
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def prefetched(chunks: Iterator[bytes], depth: int = PREFETCH_CHUNKS) -> Iterator[bytes]:
    """Yield chunks in order while a thread fetches up to ``depth`` chunks ahead.

    Why: reading an S3 body in the parsing thread left the network idle while Python parsed and
    the parser idle while the socket waited (staging from the local S3 server was measurably
    slower than from a folder: bench/RESULTS.md). Socket reads release the GIL, so one fetch thread overlaps them with
    parsing. The queue is bounded, so memory stays flat; an error in the fetch is raised here,
    in the caller's thread; closing this generator early stops the thread and closes the source.
    """
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        last: Any = _END
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
        except BaseException as exc:  # handed to the consumer, raised in its thread
            last = exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        offer(last)

    thread = threading.Thread(target=pump, name="sparkify-prefetch", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)


def source_for(config: SourceConfig) -> Source:
    """The Source implementation for a config's uri (s3://... or a folder)."""
    if config.is_s3:
        return S3Source(config.uri, config.aws_conn_id)
    return FolderSource(config.uri)
