#!/usr/bin/env python3
"""Upload a source folder (song_data/…, log_data/YYYY/MM/…) to s3://bucket/prefix.

    python scripts/s3_upload.py FOLDER s3://sparkify/generated [--conn-id aws_default]

Uses the same Airflow connection as the pipeline (S3Hook: endpoint_url, region and path-style
addressing from its extra), so the demo exercises exactly the client configuration production
uses. Creates the bucket when missing; big files go up as multipart uploads (boto3's
TransferConfig, 8 MiB parts); an object whose size and MD5 ETag already match is skipped, so a
repeated `make demo` does not change ETags and the song manifest stays valid.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MULTIPART_BYTES = 8 * 1024 * 1024


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'prefix') of s3://bucket/prefix (prefix without slashes at either end)."""
    if not uri.startswith("s3://"):
        raise SystemExit(f"not an s3:// URI: {uri}")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_bucket(client: Any, bucket: str) -> None:
    """Create the bucket unless it exists (a local store starts empty)."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        client.create_bucket(Bucket=bucket)


def upload(folder: Path, uri: str, conn_id: str, workers: int = 8) -> tuple[int, int, int]:
    """Upload every file under folder; returns (uploaded, skipped, bytes uploaded)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from boto3.s3.transfer import TransferConfig

    bucket, prefix = split_uri(uri)
    client = S3Hook(aws_conn_id=conn_id).get_conn()
    ensure_bucket(client, bucket)
    existing: dict[str, tuple[int, str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            existing[item["Key"]] = (int(item["Size"]), item["ETag"].strip('"'))
    transfer = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES)
    files = sorted(p for p in folder.rglob("*") if p.is_file())

    def one(path: Path) -> int:
        key = "/".join(filter(None, (prefix, path.relative_to(folder).as_posix())))
        size = path.stat().st_size
        seen = existing.get(key)
        if seen and seen[0] == size and ("-" in seen[1] or seen[1] == md5_of(path)):
            return -1
        client.upload_file(str(path), bucket, key, Config=transfer)
        return size

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(one, files))
    sent = [r for r in results if r >= 0]
    return len(sent), len(results) - len(sent), sum(sent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("uri", help="s3://bucket/prefix")
    parser.add_argument("--conn-id", default="aws_default")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"not a folder: {args.folder}")
    t0 = time.monotonic()
    uploaded, skipped, size = upload(args.folder, args.uri, args.conn_id)
    print(
        f"[s3-upload] {args.uri}: {uploaded} uploaded ({size / 1e6:.1f} MB), {skipped} unchanged, "
        f"{time.monotonic() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
