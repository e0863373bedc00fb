"""`make bench-hostile`: peak memory of staging a ~1 GB day of garbage lines and one of blank lines.

Why: the issue "Hostile input" (item 7) asks that memory stays bounded whatever the input —
rejections are streamed to a RejectionSpool (a SpooledTemporaryFile), blank lines only counted —
and that peak RSS staging 1 GB of garbage and 1 GB of blank lines is measured (target ≤ 300 MB).

What it does: generates, in a temporary folder under /var/tmp (deleted afterwards), two day files
under log_data/2018/11/ — one of ~1 KB garbage lines (non-JSON text, broken JSON, invalid UTF-8,
deep nesting; the line pool is checked against the parser first: every line must be exactly one
rejected record) and one of whitespace-only lines (~100 bytes) — plus one song file. It stages each
day with StageEventsOperator.execute in a fresh process (bench/stage_worker.py, folder source, own
schema, staging.max_rejected_share 1.0 so the garbage day does not fail by design), verifies the
accounting (garbage: rejected == records == lines; blank: blank == lines, records == 0) and
fails loudly if it does not add up, then writes bench/RESULTS-hostile.md and drops the schema.
The 300 MB target is reported as met/missed, not asserted.

    python bench/hostile_memory.py                # ~1 GiB per file (needs the env of scripts/env.sh)
    python bench/hostile_memory.py --size-mb 50   # quick trial; does not write RESULTS-hostile.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from sparkify.parsing import ParseStats, iter_lines, parse_events
from sparkify.project import REJECTED_TABLE

REPO = Path(__file__).resolve().parents[1]

SCHEMA = "bench_hostile"
GARBAGE_DAY, BLANK_DAY = "2018-11-01", "2018-11-02"
TARGET_MB = 300
RESULTS = REPO / "bench" / "RESULTS-hostile.md"
#: Each byte -> a printable ASCII character (space .. '~'): random text without newlines, fast.
PRINTABLE = bytes(0x20 + i % 95 for i in range(256))
#: Each byte -> itself, except LF and CR -> 'x': random binary that stays on one line.
ONE_LINE = bytes(b if b not in (0x0A, 0x0D) else 0x78 for b in range(256))


# --------------------------------------------------------------------------- garbage lines


class Garbage:
    """Builders of ~1 KB garbage lines, each of which the parser must reject as exactly one record.

    A line must not start with a complete JSON value (`null`, a number, a string, a closed object):
    the parser would take it as a record and the rest of the line as a second one.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def noise(self, n: int) -> bytes:
        return self.rng.randbytes(n).translate(PRINTABLE)

    def event(self, size: int) -> dict[str, Any]:
        """An event-shaped object padded (userAgent) to about size bytes once serialised."""
        rng = self.rng
        record: dict[str, Any] = {
            "artist": self.noise(rng.randrange(5, 40)).decode(),
            "auth": "Logged In",
            "firstName": "Ryan",
            "gender": "M",
            "itemInSession": rng.randrange(200),
            "lastName": "Smith",
            "length": round(rng.uniform(30, 600), 5),
            "level": rng.choice(("free", "paid")),
            "location": "San Jose-Sunnyvale-Santa Clara, CA",
            "method": "PUT",
            "page": "NextSong",
            "registration": 1541016707796.0,
            "sessionId": rng.randrange(1, 2000),
            "song": self.noise(rng.randrange(5, 60)).decode(),
            "status": 200,
            "ts": 1541030400000 + rng.randrange(86_400_000),
            "userAgent": "",
            "userId": str(rng.randrange(1, 100)),
        }
        record["userAgent"] = self.noise(max(10, size - len(json.dumps(record)))).decode()
        return record

    def log_text(self, size: int) -> bytes:
        head = self.rng.choice(
            (b"ERROR", b"WARN ", b"INFO ", b"DEBUG", b"<13>Nov  1 00:00:01", b"GET /api/v1/events HTTP/1.1",
             b"Traceback (most recent call last):", b"#", b"//", b"--", b"@@ -1,3 +1,4 @@", b"SELECT * FROM")
        )  # fmt: skip
        return head + b" " + self.noise(size)

    def html(self, size: int) -> bytes:
        return b"<html><head><title>502 Bad Gateway</title></head><body>" + self.noise(size) + b"</body></html>"

    def broken_json(self, size: int) -> bytes:
        text = json.dumps(self.event(size))
        rng = self.rng
        how = rng.randrange(7)
        if how == 0:  # truncated before the closing brace (a cut upload)
            return text[: rng.randrange(len(text) // 3, len(text) - 1)].encode()
        if how == 1:  # Python repr / single quotes
            return text.replace('"', "'").encode()
        if how == 2:  # trailing comma
            return (text[:-1] + ", }").encode()
        if how == 3:  # unquoted keys (JavaScript)
            return text.replace('"auth"', "auth").replace('"page"', "page").encode()
        if how == 4:  # a raw control character inside a string
            return text.replace('"Ryan"', '"Ry\x01an"').encode()
        if how == 5:  # an undefined value
            return text.replace('"method": "PUT"', '"method": undefined').encode()
        return text.replace(', "gender"', ' "gender"').encode()  # a missing comma

    def invalid_utf8(self, size: int) -> bytes:
        rng = self.rng
        how = rng.randrange(5)
        if how == 0:  # a whole event, encoded as Latin-1 instead of UTF-8
            record = self.event(size)
            record["artist"], record["song"] = "Beyoncé", "Café Señorita Ünïcødé"
            return json.dumps(record, ensure_ascii=False).encode("latin-1", "replace")
        if how == 1:  # random binary
            return b"\xff" + rng.randbytes(size).translate(ONE_LINE)
        if how == 2:  # an event in UTF-16-LE (valid UTF-8 bytes, NULs everywhere)
            return json.dumps(self.event(size // 2)).encode("utf-16-le")
        if how == 3:  # a multi-byte character cut in half
            return (
                json.dumps(self.event(size), ensure_ascii=False)
                .replace("Ryan", "Sigur R\udcc3s")
                .encode("utf-8", "surrogateescape")
            )
        # an encoded surrogate (CESU-8 / WTF-8) inside a string
        text = json.dumps(self.event(size)).replace("Smith", "Sm\udced\udca0\udc80ith")
        return text.encode("utf-8", "surrogateescape")

    def deep(self, size: int) -> bytes:
        depth = self.rng.randrange(900, 1500)
        return b"[" * depth + b'{"a": ' * (size // 10) + b"1"

    def pool(self, count: int) -> list[bytes]:
        kinds: list[tuple[Callable[[int], bytes], int]] = [
            (self.log_text, 20),
            (self.html, 5),
            (self.broken_json, 35),
            (self.invalid_utf8, 35),
            (self.deep, 5),
        ]
        builders = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        return [self.rng.choices(builders, weights)[0](self.rng.randrange(600, 1400)) for _ in range(count)]


def check_pool(pool: list[bytes]) -> None:
    """Every pool line, read the way staging reads it, is exactly one record and it is rejected."""
    for number, line in enumerate(pool, start=1):
        assert b"\n" not in line and b"\r" not in line, f"pool line {number} spans lines"
    stats = ParseStats()
    rejected: list[Any] = []
    rows = list(parse_events(GARBAGE_DAY, "pool", iter_lines([b"\n".join(pool) + b"\n"]), rejected, stats))
    if rows or not (stats.lines == stats.records == stats.rejected == len(pool) and stats.blank_lines == 0):
        per_line = [r.line_number for r in rejected]
        culprits = sorted({n for n in per_line if per_line.count(n) != 1})[:5]
        raise SystemExit(f"garbage pool is not one rejection per line: {stats}, {len(rows)} rows; lines {culprits}")


# --------------------------------------------------------------------------- files


def write_lines(path: Path, target_bytes: int, next_block: Callable[[], bytes]) -> tuple[int, int]:
    """Append blocks of newline-terminated lines until the file reaches target_bytes: (bytes, lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = lines = 0
    with path.open("wb") as handle:
        while size < target_bytes:
            block = next_block()
            handle.write(block)
            size += len(block)
            lines += block.count(b"\n")
    return size, lines


def generate(root: Path, target_bytes: int, rng: random.Random) -> dict[str, dict[str, Any]]:
    day_folder = root / "log_data" / "2018" / "11"
    files: dict[str, dict[str, Any]] = {}

    started = time.perf_counter()
    pool = Garbage(rng).pool(20_000)
    check_pool(pool)
    garbage = day_folder / f"{GARBAGE_DAY}-events.json"
    size, lines = write_lines(garbage, target_bytes, lambda: b"\n".join(rng.choices(pool, k=16_384)) + b"\n")
    files["garbage"] = {"day": GARBAGE_DAY, "path": garbage, "bytes": size, "lines": lines,
                        "generate_s": time.perf_counter() - started}  # fmt: skip

    started = time.perf_counter()
    # Whitespace-only lines of 100 bytes: spaces, tabs, mixed, and 1 in 16 with a CRLF ending.
    variants = [b" " * 100, b"\t" * 100, b" \t" * 50, b"\t" + b" " * 99, b" " * 99 + b"\r"]
    weights = [10, 2, 2, 1, 1]
    blocks = [b"\n".join(rng.choices(variants, weights, k=65_536)) + b"\n" for _ in range(8)]
    blank = day_folder / f"{BLANK_DAY}-events.json"
    size, lines = write_lines(blank, target_bytes, lambda: rng.choice(blocks))
    files["blank"] = {"day": BLANK_DAY, "path": blank, "bytes": size, "lines": lines,
                      "generate_s": time.perf_counter() - started}  # fmt: skip

    song = root / "song_data" / "A" / "A" / "A" / "TRAAAAW128F429D538.json"
    song.parent.mkdir(parents=True)
    song_record = {"num_songs": 1, "artist_id": "ARD7TVE1187B99BFB1", "artist_latitude": None,
                   "artist_longitude": None, "artist_location": "California - LA", "artist_name": "Casual",
                   "song_id": "SOMZWCG12A8C13C480", "title": "I Didn't Mean To", "duration": 218.93179,
                   "year": 0}  # fmt: skip
    song.write_text(json.dumps(song_record))
    return files


def write_config(path: Path, source: Path) -> Path:
    """A copy of config.json reading the generated folder into the bench schema; nothing fails by share."""
    document = json.loads((REPO / "config.json").read_text())
    document["source"]["uri"] = str(source)
    document["warehouse"]["schema"] = SCHEMA
    document["staging"]["max_rejected_share"] = 1.0
    path.write_text(json.dumps(document))
    return path


# --------------------------------------------------------------------------- staging


def stage(config: Path, partition: str) -> dict[str, Any]:
    """StageEventsOperator.execute alone in a fresh process (bench/stage_worker.py): its JSON line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "stage_worker.py"), "--config", str(config), "--partition", partition],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"staging {partition} failed (exit {done.returncode}), stderr tail above")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def committed(url: str, partition: str) -> tuple[int, int]:
    """Rows of the partition in staging_events and in rejected_lines, as committed."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"SELECT (SELECT COUNT(*) FROM {SCHEMA}.staging_events WHERE partition_key = %(p)s),"
            f" (SELECT COUNT(*) FROM {SCHEMA}.{REJECTED_TABLE} WHERE partition_key = %(p)s)",
            {"p": partition},
        ).fetchone()
    return int(row[0]), int(row[1])


def verify(kind: str, file: dict[str, Any], result: dict[str, Any], in_tables: tuple[int, int]) -> list[str]:
    """What does not add up for one file (empty when its accounting is right)."""
    lines = file["lines"]
    if kind == "garbage":
        expected = {"raw_lines": lines, "records": lines, "rejected": lines, "blank_lines": 0, "rows": 0}
        expected_tables = (0, lines)
    else:
        expected = {"raw_lines": lines, "records": 0, "rejected": 0, "blank_lines": lines, "rows": 0}
        expected_tables = (0, 0)
    problems = [f"{kind}: {k} = {result.get(k)}, expected {v}" for k, v in expected.items() if result.get(k) != v]
    if in_tables != expected_tables:
        tables = f"(staging_events, {REJECTED_TABLE})"
        problems.append(f"{kind}: committed {tables} = {in_tables}, expected {expected_tables}")
    return problems


# --------------------------------------------------------------------------- report


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.machine()}"
    return f"{os.cpu_count()} cores{memory}, {system}, Python {platform.python_version()}"


def report(files: dict[str, dict[str, Any]], results: dict[str, dict[str, Any]], extra: dict[str, Any]) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    for kind, label in (("garbage", "garbage lines (~1 KB)"), ("blank", "blank lines (100 B)")):
        f, r = files[kind], results[kind]
        start, own = r.get("rss_at_execute_start_mb"), r.get("execute_peak_rss_mb")
        execute = f"{start:.0f} → {own:.0f}" if start is not None and own is not None else "n/a"
        rows.append(
            f"| {label} | {f['bytes'] / 1e6:,.0f} MB | {f['lines']:,} | {r['records']:,} | {r['rejected']:,} "
            f"| {r['blank_lines']:,} | {r['rows']:,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} "
            f"| **{r['maxrss_mb']:.0f}** | {r['rss_before_execute_mb']:.0f} | {execute} |"
        )
    peaks = {kind: results[kind]["maxrss_mb"] for kind in ("garbage", "blank")}
    verdicts = "; ".join(
        f"{kind} {peak:.0f} MB → {'met' if peak <= TARGET_MB else '**missed**'}" for kind, peak in peaks.items()
    )
    return "\n".join(
        [
            "# Hostile input: peak memory of staging (`make bench-hostile`)",
            "",
            f"Generated by bench/hostile_memory.py on {now}; machine: {machine()}, PostgreSQL "
            f"{extra['pg_version']} (shared machine: seconds are noisy, memory is not). "
            f"Wall time {extra['wall_s']:.0f} s.",
            "",
            "Each day file is staged by `StageEventsOperator.execute` alone in a fresh process "
            "(bench/stage_worker.py, folder source, `staging.max_rejected_share` 1.0). Peak RSS is that "
            "process's own RSS high-water mark (`VmHWM`; `ru_maxrss` would start at the parent's peak after "
            "fork + exec; PostgreSQL's own memory is not included); *before execute* is its "
            "high-water mark after imports and `ensure_schema`, i.e. the import footprint; *execute* is "
            "the RSS when execute() starts → the peak during execute() alone (the high-water mark is reset "
            "just before it, Linux `clear_refs`). *seconds* is execute()'s wall time: parsing, then the COPY of "
            "the spooled rejections into rejected_lines (PostgreSQL's work, not in *CPU s*, which is the staging "
            "process's, imports included).",
            "",
            "| file | size | lines | records | rejected | blank lines | rows loaded | seconds | CPU s "
            "| peak RSS MB | before execute MB | execute: start → peak MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"- Target peak RSS ≤ {TARGET_MB} MB: {verdicts}.",
            "- Accounting verified (the script fails otherwise): garbage rejected = records = lines, 0 rows; "
            f"blank lines = lines, 0 records; the same counts committed in staging_events and {REJECTED_TABLE}.",
            f"- {REJECTED_TABLE} after the garbage day: {extra['rejected_table_mb']:,.0f} MB on disk "
            f"(schema {SCHEMA} dropped at the end); generating both files took {extra['generate_s']:.0f} s.",
            "- Garbage mix (a pool of 20,000 lines of 600 to 1,400 bytes, each checked to be one rejected record): "
            "log/stack-trace text 20%, HTML 5%, broken JSON 35% (truncated, single quotes, trailing comma, "
            "unquoted keys, raw control character, `undefined`, missing comma), invalid UTF-8 35% (Latin-1, "
            "random binary, UTF-16-LE with NULs, cut multi-byte character, encoded surrogate), nesting "
            "900 to 1,500 deep 5%. Blank lines: 100 bytes of spaces/tabs, 1 in 16 ending in CRLF.",
            "",
        ]
    )


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SPARKIFY_WAREHOUSE_URL"))
    parser.add_argument("--size-mb", type=float, default=1024, help="size of each day file in MiB (default 1024)")
    parser.add_argument("--tmp", default="/var/tmp", help="where the temporary source folder is made")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if not args.url or not os.environ.get("AIRFLOW_CONN_SPARKIFY_WAREHOUSE"):
        raise SystemExit("no warehouse: run through `make bench-hostile` (or source scripts/env.sh)")
    target = int(args.size_mb * 1024 * 1024)
    # Two files, the spooled rejections and the rejected_lines table (~the garbage file again,
    # plus WAL): ask for six times one file plus 2 GB.
    free = shutil.disk_usage(args.tmp).free
    print(f"[hostile] free space in {args.tmp}: {free / 1e9:.1f} GB", flush=True)
    wanted = 6 * target + (2 << 30)
    if free < wanted:
        raise SystemExit(f"not enough free space in {args.tmp}: {free / 1e9:.1f} GB, want {wanted / 1e9:.1f} GB")

    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="sparkify-hostile-", dir=args.tmp))
    results: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    try:
        files = generate(work / "source", target, random.Random(args.seed))
        for kind, f in files.items():
            print(f"[hostile] generated {kind}: {f['bytes'] / 1e6:,.0f} MB, {f['lines']:,} lines "
                  f"in {f['generate_s']:.1f} s", flush=True)  # fmt: skip
        config = write_config(work / "config.json", work / "source")
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
        extra: dict[str, Any] = {"pg_version": pg_version.split()[0]}
        for kind in ("garbage", "blank"):
            result = stage(config, files[kind]["day"])
            results[kind] = result
            print(f"[hostile] staged {kind}: {json.dumps(result)}", flush=True)
            problems += verify(kind, files[kind], result, committed(args.url, files[kind]["day"]))
            if kind == "garbage":
                with psycopg.connect(args.url) as conn:
                    size = conn.execute("SELECT pg_total_relation_size(%s)", (f"{SCHEMA}.{REJECTED_TABLE}",))
                    extra["rejected_table_mb"] = size.fetchone()[0] / 1e6
        extra["generate_s"] = sum(f["generate_s"] for f in files.values())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    extra["wall_s"] = time.perf_counter() - began
    if problems:
        raise SystemExit("accounting does not add up:\n  " + "\n  ".join(problems))
    text = report(files, results, extra)
    print(text)
    if args.size_mb >= 1024:
        RESULTS.write_text(text)
        print(f"[hostile] wrote {RESULTS.relative_to(REPO)}")
    else:
        print(f"[hostile] --size-mb {args.size_mb:g} < 1024: {RESULTS.relative_to(REPO)} left as it is")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
