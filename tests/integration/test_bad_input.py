"""Bad input on real PostgreSQL: every raw line is loaded or quarantined, and only a partition whose
rejected share passes staging.max_rejected_share fails, after keeping its rejections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.parsing import MAX_LINE_BYTES, RAW_TEXT_LIMIT

DAY = "2018-11-01"
LOG_DIR = "log_data/2018/11"
GOOD = {
    "page": "NextSong", "ts": 1541030400000 + 5000, "userId": "7", "level": "free", "sessionId": 1,
    "itemInSession": 0,
}  # fmt: skip

#: kind -> (raw line, fragment of the stored reason). Each was seen in real or realistic hostile
#: input; several crashed the parser or the COPY (failing the whole partition) before issue 11.
BAD_LINES: dict[str, tuple[bytes, str]] = {
    "malformed JSON": (b'{"page": "NextSong", "ts": 15410', "malformed JSON"),
    "not an object": (b"[1, 2, 3]", "expected a JSON object"),
    "ts not a number": (json.dumps({**GOOD, "ts": "yesterday"}).encode(), "field 'ts': expected number"),
    "length as text": (json.dumps({**GOOD, "length": "246.3"}).encode(), "field 'length': expected number"),
    "missing required field": (json.dumps({"page": "Home", "userId": "7"}).encode(), "missing required field 'ts'"),
    "invalid UTF-8": (b'{"page": "NextSong", "ts": 1, "userId": "7", "artist": "Bj\xf6rk"}', "invalid UTF-8"),
    "NUL in a string": (json.dumps({**GOOD, "song": "a\u0000b"}).encode(), "contains a NUL character"),
    "oversized line": (b'{"page": "' + b"x" * (MAX_LINE_BYTES * 4) + b'"}', "line longer than"),
    "1500 levels of nesting": (
        json.dumps(GOOD).encode()[:-1] + b', "extra": ' + b"[" * 1500 + b"]" * 1500 + b"}",
        "nested too deeply",
    ),
    "5000-digit integer": (
        json.dumps(GOOD).encode()[:-1] + b', "registration": 1' + b"0" * 5000 + b"}",
        "field 'registration': not a finite number",
    ),
    "400-digit length": (json.dumps({**GOOD, "length": int("1" + "0" * 400)}).encode(), "field 'length'"),
    "5000-digit integer in an unknown field (ignored) and a bad ts": (
        json.dumps({**GOOD, "ts": "x"}).encode()[:-1] + b', "extra": 1' + b"0" * 5000 + b"}",
        "field 'ts': expected number",
    ),
    "3000 bytes of 0xff": (b"\xff" * 3000, "invalid UTF-8 at byte 0"),
    "raw NUL bytes": (b'{"page": "NextSong"\x00\x00}', "malformed JSON"),
    "NextSong without sessionId": (json.dumps({**GOOD, "sessionId": None}).encode(), "'sessionId'"),
    "length of 1e13": (json.dumps({**GOOD, "length": 1e13}).encode(), "field 'length'"),
    "ts of 2^63-1": (json.dumps({**GOOD, "ts": 2**63 - 1}).encode(), "field 'ts'"),
    "invalid UTF-8 in an unknown field": (json.dumps(GOOD).encode()[:-1] + b', "x": "\xff"}', "invalid UTF-8"),
}


def contract_checksums(project) -> dict[str, str]:
    """Checksums of the tables under the idempotency contract (dq_results is an append-only audit log)."""
    sums = project.checksums()
    sums.pop("dq_results", None)
    return sums


@pytest.fixture
def bad_source(generator, tmp_path: Path) -> tuple[Path, dict]:
    """One generated day plus a second object holding one line of every bad kind, an empty object,
    and a song file with several records."""
    out = tmp_path / "src"
    counts = generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 1), 30, 2500, 20, 0.2, 11)
    bad = b"\n".join(raw for raw, _ in BAD_LINES.values())
    (out / LOG_DIR / f"{DAY}-z-bad.json").write_bytes(bad + b"\n" + b'{"no newline at all": ' + b"9" * 300_000)
    (out / LOG_DIR / f"{DAY}-empty.json").write_bytes(b"")
    several = "".join(
        json.dumps(
            {"song_id": f"SXMULTI{i}", "artist_id": "AXMULTI", "artist_name": "Multi", "title": f"t{i}", "duration": i}
        )
        for i in range(3)
    )
    (out / "song_data" / "Z").mkdir(parents=True, exist_ok=True)
    (out / "song_data" / "Z" / "multi.json").write_text(several + "\n" + several.replace("MULTI", "MULTJ"))
    return out, counts


def test_every_kind_is_quarantined_and_accounted_for(make_project, bad_source) -> None:
    source, counts = bad_source
    project = make_project(source)
    kinds = len(BAD_LINES) + 1  # + the unterminated last line
    raw_lines = counts["events"] + kinds
    assert kinds / raw_lines <= 0.01  # below the shipped threshold: the partition must succeed

    result = project.stage(DAY)["events"]

    assert result["raw_lines"] == raw_lines
    assert result["rows_loaded"] == counts["events"]
    assert result["rejected"] == kinds
    assert result["records"] == raw_lines == result["rows_loaded"] + result["rejected"]
    assert result["blank_lines"] == 0
    assert project.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (DAY,)) == counts["events"]
    rejected = project.query(
        "SELECT line_number, reason, length(raw_line) FROM rejected_lines WHERE partition_key = %s"
        " AND source_key LIKE %s ORDER BY line_number",
        (DAY, "%z-bad.json"),
    )
    assert [r[0] for r in rejected] == list(range(1, kinds + 1))
    for (_, reason, _), (kind, (_, fragment)) in zip(rejected, BAD_LINES.items(), strict=False):
        assert fragment in reason, (kind, reason)
    assert all(length <= RAW_TEXT_LIMIT for *_, length in rejected)
    # Every rejection keeps the size and hash of its whole raw line, however much of it was kept.
    lines = [raw for raw, _ in BAD_LINES.values()]
    stored = project.query(
        "SELECT byte_length, raw_sha256 FROM rejected_lines WHERE partition_key = %s AND source_key LIKE %s"
        " ORDER BY line_number",
        (DAY, "%z-bad.json"),
    )
    assert stored[: len(lines)] == [(len(raw), hashlib.sha256(raw).hexdigest()) for raw in lines]
    assert "line longer than" in rejected[-1][1]  # a 300 kB line with no newline is capped, not buffered

    # The song file with several records: all six loaded, numbered per record.
    assert project.scalar("SELECT COUNT(*) FROM staging_songs WHERE source_key = 'song_data/Z/multi.json'") == 6

    # The rest of the pipeline runs on the good rows, and re-staging changes nothing.
    project.transform(DAY)
    before = contract_checksums(project)
    project.stage(DAY)
    project.transform(DAY)
    assert contract_checksums(project) == before


def test_partition_over_the_threshold_fails_but_keeps_its_rejections(make_project, bad_source) -> None:
    source, counts = bad_source
    project = make_project(source)
    document = json.loads(project.config_path.read_text())
    document["staging"]["max_rejected_share"] = 0.001
    project.config_path.write_text(json.dumps(document))

    with pytest.raises(AirflowFailException) as failure:
        project.stage(DAY)
    message = str(failure.value)
    records = counts["events"] + len(BAD_LINES) + 1
    assert f"partition {DAY}: {len(BAD_LINES) + 1} of {records} records rejected" in message
    assert f"{LOG_DIR}/{DAY}-z-bad.json line 1: malformed JSON" in message
    assert f"{counts['events']} rows loaded" in message
    # Failed after commit: the rejections are there to inspect (and the rows, which nothing publishes).
    assert project.scalar("SELECT COUNT(*) FROM rejected_lines WHERE partition_key = %s", (DAY,)) == len(BAD_LINES) + 1


def test_threshold_defaults_to_one_percent_when_absent(make_project, bad_source) -> None:
    source, _ = bad_source
    project = make_project(source)
    document = json.loads(project.config_path.read_text())
    del document["staging"]["max_rejected_share"]
    project.config_path.write_text(json.dumps(document))
    assert project.config.staging.max_rejected_share == 0.01


def test_a_gzip_file_named_json_is_quarantined_line_by_line(make_project, generator, tmp_path: Path) -> None:
    """A compressed object under a .json name (issue 11): its bytes split into 'lines' wherever a
    newline byte happens to fall; each one is rejected with a reason, the raw text is kept bounded,
    and the day's other object still stages (here the garbage passes the 1% share: the partition
    fails, after storing every rejection and naming the object)."""
    import gzip

    out = tmp_path / "src"
    import random

    counts = generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 1), 30, 100, 20, 0.2, 11)
    # Incompressible content, so the compressed bytes hold many newline bytes (~1 in 256).
    payload = gzip.compress(random.Random(7).randbytes(64 * 1024))
    assert payload[:2] == b"\x1f\x8b" and payload.count(b"\n") > counts["events"] // 50
    (out / LOG_DIR / f"{DAY}-compressed.json").write_bytes(payload)
    garbage_lines = payload.count(b"\n") + (0 if payload.endswith(b"\n") else 1)
    project = make_project(out)
    with pytest.raises(AirflowFailException, match="records rejected"):
        project.stage(DAY)
    rejected = project.query(
        "SELECT COUNT(*), MAX(length(raw_line)), MIN(reason) FROM rejected_lines WHERE source_key LIKE %s",
        ("%-compressed.json",),
    )
    count, longest, reason = rejected[0]
    blank = sum(1 for line in payload.split(b"\n") if not line.strip())
    assert count == garbage_lines - blank
    assert longest <= RAW_TEXT_LIMIT
    assert reason  # every rejection names why
    # Failed after commit (as any partition over the share): the rows are there, nothing publishes them.
    assert project.scalar("SELECT COUNT(*) FROM staging_events") == counts["events"]
    # With the share raised, the same day stages: the generated object loads, the garbage stays rejected.
    document = json.loads(project.config_path.read_text())
    document["staging"]["max_rejected_share"] = 0.99
    project.config_path.write_text(json.dumps(document))
    result = project.stage(DAY)["events"]
    assert result["rows_loaded"] == counts["events"]
    assert result["rejected"] == count
