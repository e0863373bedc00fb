#!/usr/bin/env python3
"""S3 listing + streaming read throughput of sparkify's S3Source against an S3 endpoint.

    . scripts/env.sh && scripts/s3.sh start
    python bench/s3_throughput.py [--small 2000] [--big-mb 64] [--conn-id aws_default]

Uploads N small objects (song-file sized, ~250 B) and a few big ones into a fresh bucket, then
times S3Source.list() (objects/s) and S3Source.read() (objects/s for the small ones, MB/s for
the big ones, streamed in CHUNK_BYTES pieces), and deletes the bucket. One client, sequential
reads: what StageSongsOperator / StageEventsOperator do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sparkify.sources import S3Source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--big-mb", type=int, default=64)
    parser.add_argument("--big-count", type=int, default=2)
    parser.add_argument("--conn-id", default="aws_default")
    args = parser.parse_args()

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from boto3.s3.transfer import TransferConfig

    client = S3Hook(aws_conn_id=args.conn_id).get_conn()
    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    small_body = b'{"num_songs": 1, "artist_id": "ARXXXXXXXXXXXXXXXX", "title": "x"}' * 4
    line = b'{"artist":"A","auth":"Logged In","page":"NextSong","ts":1541105830796,"userId":"39"}\n'
    big_body = line * (args.big_mb * 1024 * 1024 // len(line))
    try:
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: client.put_object(Bucket=bucket, Key=f"b/song_data/{i:06d}.json", Body=small_body),
                          range(args.small)))
        for i in range(args.big_count):
            client.upload_fileobj(
                __import__("io").BytesIO(big_body), bucket, f"b/log_data/big-{i}.json",
                Config=TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20),
            )
        print(f"upload: {time.monotonic() - t0:.1f} s (setup, not measured)", file=sys.stderr)

        source = S3Source(f"s3://{bucket}/b", args.conn_id)
        t = time.monotonic()
        listed = source.list("song_data/")
        list_s = time.monotonic() - t
        assert len(listed) == args.small
        t = time.monotonic()
        small_bytes = sum(len(chunk) for obj in listed for chunk in source.read(obj.key))
        read_small_s = time.monotonic() - t
        t = time.monotonic()
        big = source.list("log_data/")
        big_bytes = sum(len(chunk) for obj in big for chunk in source.read(obj.key))
        read_big_s = time.monotonic() - t

        print(f"endpoint {os.environ.get('SPARKIFY_S3_ENDPOINT', '(connection default)')}")
        print(f"list   {len(listed)} objects: {list_s:.2f} s = {len(listed) / list_s:,.0f} objects/s")
        print(
            f"read   {len(listed)} small objects ({small_bytes / 1e6:.2f} MB): {read_small_s:.2f} s = "
            f"{len(listed) / read_small_s:,.0f} objects/s, {small_bytes / 1e6 / read_small_s:.2f} MB/s"
        )
        print(
            f"read   {len(big)} big objects ({big_bytes / 1e6:.0f} MB): {read_big_s:.2f} s = "
            f"{big_bytes / 1e6 / read_big_s:.0f} MB/s"
        )
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        client.delete_bucket(Bucket=bucket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
