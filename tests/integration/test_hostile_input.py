"""Hostile input on real PostgreSQL: no record, duplicate or object name can stop a partition.

Each test reproduces a way real-world input broke a partition (issue 11) and asserts the data
contract (docs/data-contract.md) instead: every record ends staged or rejected, duplicates count once,
the transform loads whatever staging accepted, odd names are stored safely.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkify.operators.load_dimension import LoadDimensionOperator
from sparkify.operators.load_fact import LoadFactOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.sources import MAX_STORED_KEY

DAY = "2018-11-01"
NEXT_DAY = "2018-11-02"
DAY_DIR = "log_data/2018/11"
DAY_MS = 1541030400000  # 2018-11-01T00:00:00Z


def event(**overrides: Any) -> dict[str, Any]:
    """A NextSong event of a logged-in user on DAY (overrides applied)."""
    base = {
        "artist": "Artist", "auth": "Logged In", "firstName": "Ann", "gender": "F", "itemInSession": 0,
        "lastName": "Lee", "length": 200.5, "level": "free", "location": "Somewhere", "method": "PUT",
        "page": "NextSong", "registration": 1540000000000.0, "sessionId": 1, "song": "Song", "status": 200,
        "ts": DAY_MS + 3_600_000, "userAgent": "agent", "userId": "7",
    }  # fmt: skip
    return {**base, **overrides}


def lines_of(*records: dict[str, Any]) -> bytes:
    return b"\n".join(json.dumps(r).encode() for r in records)


def set_max_rejected_share(project: Any, share: float) -> None:
    document = json.loads(project.config_path.read_text())
    document["staging"]["max_rejected_share"] = share
    project.config_path.write_text(json.dumps(document))


def check_results(project: Any, name: str) -> list[tuple]:
    return project.query(
        "SELECT status, observed, sample_rows FROM dq_results WHERE check_name = %s ORDER BY checked_at", (name,)
    )


def identities(path: Path) -> set[tuple]:
    """Songplay identities (user, session, item, ts) of a day file, computed here in Python."""
    found = set()
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        record = json.loads(line)
        if record["page"] == "NextSong" and record["userId"]:
            found.add((record["userId"], record["sessionId"], record["itemInSession"], record["ts"]))
    return found


@pytest.fixture
def day_source(generator, tmp_path: Path) -> Path:
    out = tmp_path / "src"
    generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 2), 20, 300, 20, 0.3, 5)
    return out


# --------------------------------------------------------------------------- duplicates


def test_duplicates_count_once_and_conflicts_are_reported(make_project, generator, tmp_path: Path) -> None:
    out = tmp_path / "src"
    shapes = generator.RareShapes(duplicates=6, conflicting=3, logged_out_nextsong=4)
    counts = generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 1), 20, 300, 20, 0.3, 5, shapes)
    assert counts["shapes"]["conflicting"] == 3
    day_file = out / DAY_DIR / f"{DAY}-events.json"
    # At-least-once delivery: the whole file again as a second object, and debris next to it.
    (out / DAY_DIR / f"{DAY}-events-redelivered.json").write_bytes(day_file.read_bytes())
    (out / DAY_DIR / f"{DAY}-events.json.bak").write_bytes(day_file.read_bytes())
    (out / DAY_DIR / f"{DAY}-events.json.tmp").write_bytes(b"{half a line")
    project = make_project(out)

    staged = project.stage(DAY)["events"]
    project.transform(DAY)  # raises if an error-severity check fails (the reconciliation included)

    assert staged["objects"] == 2 and staged["ignored_objects"] == 2
    assert staged["rejected"] == 0
    expected = identities(day_file)
    assert project.scalar("SELECT COUNT(*) FROM songplays") == len(expected)
    assert project.scalar("SELECT COUNT(DISTINCT songplay_id) FROM songplays") == len(expected)
    assert project.scalar("SELECT COUNT(*) FROM songplays WHERE user_id = ''") == 0
    ((status, observed, sample),) = check_results(project, "staging_events_conflicting_duplicates")
    assert (status, observed) == ("warned", 3.0)
    assert len(json.loads(sample)) == 3


def test_conflicting_duplicates_resolve_the_same_in_any_file_order(make_project, tmp_path: Path) -> None:
    """Same identity, other content: the kept version depends on content only, not on line order."""
    first = event(level="free", location="A")
    second = event(level="paid", location="B")
    results = []
    for order in ((first, second), (second, first)):
        out = tmp_path / f"src-{len(results)}"
        (out / DAY_DIR).mkdir(parents=True)
        (out / DAY_DIR / f"{DAY}-events.json").write_bytes(lines_of(event(ts=DAY_MS + 1), *order))
        (out / "song_data").mkdir()
        (out / "song_data" / "s.json").write_text(json.dumps(SONG))
        project = make_project(out)
        project.stage(DAY)
        project.transform(DAY)
        results.append(project.query("SELECT songplay_id, level, location FROM songplays ORDER BY 1"))
    assert results[0] == results[1]
    assert len(results[0]) == 2


def test_same_event_in_two_partitions_is_loaded_in_each_and_reported(make_project, day_source: Path) -> None:
    day_file = day_source / DAY_DIR / f"{DAY}-events.json"
    late = next(
        line for line in day_file.read_bytes().split(b"\n") if b'"NextSong"' in line and b'"userId":""' not in line
    )
    next_file = day_source / DAY_DIR / f"{NEXT_DAY}-events.json"
    next_file.write_bytes(next_file.read_bytes() + b"\n" + late)
    project = make_project(day_source)

    for key in (DAY, NEXT_DAY):
        project.stage(key)
        project.transform(key)  # the late event is valid data: no error-severity check fails

    songplay_id = project.scalar(
        "SELECT songplay_id FROM songplays GROUP BY songplay_id HAVING COUNT(DISTINCT partition_key) = 2"
    )
    assert songplay_id is not None
    # Partition-scoped: DAY's run found no other copy yet; NEXT_DAY's names the one shared event.
    (first, second) = check_results(project, "songplays_event_in_one_partition")
    assert first[:2] == ("passed", 0.0)
    assert second[:2] == ("warned", 1.0)
    (sample,) = json.loads(second[2])
    assert (sample["songplay_id"], sample["also_in_partition"]) == (songplay_id, DAY)
    outside = check_results(project, "staging_events_ts_in_partition")
    assert outside[-1][:2] == ("warned", 1.0)
    project.transform(DAY)  # re-run: now DAY reports the copy in NEXT_DAY
    assert check_results(project, "songplays_event_in_one_partition")[-1][:2] == ("warned", 1.0)


# --------------------------------------------------------------------------- what the transform needs


SONG = {
    "num_songs": 1, "artist_id": "ARTIST1", "artist_latitude": None, "artist_longitude": None,
    "artist_location": "", "artist_name": "Artist", "song_id": "SONG1", "title": "Song", "duration": 200.5,
    "year": 0,
}  # fmt: skip


def write_source(out: Path, days: dict[str, bytes], songs: dict[str, bytes] | None = None) -> Path:
    for key, data in days.items():
        (out / DAY_DIR).mkdir(parents=True, exist_ok=True)
        (out / DAY_DIR / f"{key}-events.json").write_bytes(data)
    for name, data in (songs or {"A/s.json": json.dumps(SONG).encode()}).items():
        path = out / "song_data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return out


def test_latest_non_null_level_wins_in_any_partition_order(make_project, tmp_path: Path) -> None:
    day1 = lines_of(event(level="paid", ts=DAY_MS + 1000), event(page="Home", level=None, ts=DAY_MS + 2000))
    day2 = lines_of(event(page="Home", level=None, ts=DAY_MS + 86_400_000 + 5000, sessionId=2))
    users = []
    for order in ((DAY, NEXT_DAY), (NEXT_DAY, DAY)):
        project = make_project(write_source(tmp_path / f"src-{order[0]}", {DAY: day1, NEXT_DAY: day2}))
        for key in order:
            project.stage(key)
            project.transform(key, run_checks=False)
        users.append(project.query("SELECT user_id, level, last_event_ts FROM users"))
    assert users[0] == users[1] == [("7", "paid", DAY_MS + 1000)]


def test_songs_match_on_repaired_title_artist_and_duration_to_three_decimals(make_project, tmp_path: Path) -> None:
    def twice_latin1(text: str) -> str:  # UTF-8 decoded as Latin-1 twice, as real logs hold it
        return text.encode().decode("latin-1").encode().decode("latin-1")

    icelandic = {**SONG, "song_id": "SONG2", "artist_id": "ARTIST2", "title": "Hoppípolla",
                 "artist_name": "Sigur Rós", "duration": 268.0}  # fmt: skip
    mojibake = {"song": twice_latin1("Hoppípolla"), "artist": twice_latin1("Sigur Rós"), "length": 268.0}
    data = lines_of(
        event(itemInSession=0, ts=DAY_MS + 0, length=200.5004),  # 200.500 at 3 decimals: SONG1
        event(itemInSession=1, ts=DAY_MS + 1, length=200.4),  # same title and artist, other duration
        event(itemInSession=2, ts=DAY_MS + 2, **mojibake),  # repaired before matching: SONG2
        event(itemInSession=3, ts=DAY_MS + 3, song="Other", length=200.5),  # other title
    )
    songs = {"A/s.json": json.dumps(SONG).encode(), "B/s.json": json.dumps(icelandic).encode()}
    project = make_project(write_source(tmp_path / "src", {DAY: data}, songs))
    project.stage(DAY)
    project.transform(DAY, run_checks=False)
    assert project.query("SELECT song_id, artist_id FROM songplays ORDER BY start_time") == [
        ("SONG1", "ARTIST1"), (None, None), ("SONG2", "ARTIST2"), (None, None)
    ]


def test_level_of_the_newest_partition_wins_when_it_loads_first(make_project, tmp_path: Path) -> None:
    """upsert_latest: a partition loaded later but holding older events must not overwrite the level."""
    day1 = lines_of(event(level="free", ts=DAY_MS + 1000))
    day2 = lines_of(event(level="paid", ts=DAY_MS + 86_400_000 + 5000, sessionId=2))
    users = []
    for order in ((DAY, NEXT_DAY), (NEXT_DAY, DAY)):
        project = make_project(write_source(tmp_path / f"src-{order[0]}", {DAY: day1, NEXT_DAY: day2}))
        for key in order:
            project.stage(key)
            project.transform(key, run_checks=False)
        users.append(project.query("SELECT user_id, level, last_event_ts FROM users"))
    assert users[0] == users[1] == [("7", "paid", DAY_MS + 86_400_000 + 5000)]


def test_logged_out_next_song_is_staged_but_never_a_songplay(make_project, tmp_path: Path) -> None:
    data = lines_of(event(), event(userId="", auth="Logged Out", firstName=None, ts=DAY_MS + 5000, sessionId=9))
    project = make_project(write_source(tmp_path / "src", {DAY: data}))
    project.stage(DAY)
    project.transform(DAY)
    assert project.scalar("SELECT COUNT(*) FROM staging_events WHERE user_id = '' AND page = 'NextSong'") == 1
    assert project.query("SELECT user_id FROM songplays") == [("7",)]
    assert project.query("SELECT user_id FROM users") == [("7",)]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sessionId": None}, "missing required field 'sessionId'"),
        ({"itemInSession": None}, "missing required field 'itemInSession'"),
        ({"length": 1e13}, "field 'length'"),
        ({"ts": 2**63 - 1}, "field 'ts'"),
        ({"ts": -5}, "field 'ts'"),
    ],
)
def test_records_the_transform_cannot_load_are_rejected_at_staging(
    make_project, tmp_path: Path, overrides: dict, reason: str
) -> None:
    data = lines_of(event(), event(**{"ts": DAY_MS + 10, **overrides}))
    project = make_project(write_source(tmp_path / "src", {DAY: data}))
    set_max_rejected_share(project, 1.0)
    result = project.stage(DAY)["events"]
    project.transform(DAY, run_checks=False)
    assert (result["rows_loaded"], result["rejected"]) == (1, 1)
    assert reason in project.scalar("SELECT reason FROM rejected_lines")
    assert project.scalar("SELECT COUNT(*) FROM songplays") == 1


# --------------------------------------------------------------------------- what counts as a record


def test_blank_lines_bom_and_whitespace_separated_records(make_project, tmp_path: Path) -> None:
    cr_separated = b"\r".join(json.dumps(event(ts=DAY_MS + i, itemInSession=i)).encode() for i in range(150))
    two_on_a_line = json.dumps(event(ts=DAY_MS + 500)).encode() + b" \t " + json.dumps(event(ts=DAY_MS + 501)).encode()
    data = b"\n".join(
        [b"\xef\xbb\xbf" + json.dumps(event(ts=DAY_MS + 900)).encode(), b"", b"   ", cr_separated, b"\t",
         two_on_a_line, b"\r", b""]
    )  # fmt: skip
    project = make_project(write_source(tmp_path / "src", {DAY: data}))
    result = project.stage(DAY)["events"]  # the 1% threshold holds: blank lines are not rejections
    assert result["rejected"] == 0
    assert result["blank_lines"] == 4  # "", "   ", "\t", "\r" (a final empty line is no line)
    assert result["records"] == result["rows_loaded"] == 1 + 150 + 2
    assert project.query(
        "SELECT line_number, COUNT(*), MIN(record_in_line), MAX(record_in_line) FROM staging_events"
        " GROUP BY line_number ORDER BY line_number"
    ) == [(1, 1, 1, 1), (4, 150, 1, 150), (6, 2, 1, 2)]


# --------------------------------------------------------------------------- songs


def test_one_bad_song_record_never_blocks_the_catalogue(make_project, tmp_path: Path) -> None:
    songs = {
        "A/good.json": json.dumps(SONG).encode(),
        "A/huge-duration.json": json.dumps({**SONG, "song_id": "S2"}).encode().replace(
            b'"duration": 200.5', b'"duration": 1' + b"0" * 400
        ),
        "A/outlier.json": json.dumps({**SONG, "song_id": "S3", "duration": 1e15}).encode(),
        "B/conflicting.json": json.dumps({**SONG, "title": "Another title"}).encode(),
    }
    project = make_project(write_source(tmp_path / "src", {DAY: lines_of(event())}, songs))
    staged = project.stage(DAY)["songs"]
    assert (staged["objects_loaded"], staged["rows_loaded"], staged["rejected"]) == (4, 2, 2)
    reasons = [r for (r,) in project.query("SELECT reason FROM rejected_lines ORDER BY source_key")]
    assert all("field 'duration'" in reason for reason in reasons)
    project.transform(DAY)  # the warn check reports the conflict; nothing fails
    ((status, observed, _),) = check_results(project, "staging_songs_conflicting_records")
    assert (status, observed) == ("warned", 1.0)
    # Deterministic winner: the first record by source key (A/good.json), whatever the load order.
    assert project.query("SELECT title FROM songs WHERE song_id = 'SONG1'") == [("Song",)]
    # A later run is not blocked and reloads nothing.
    assert project.stage(DAY)["songs"]["objects_loaded"] == 0


def test_conflicting_song_records_count_versions_as_distinct_rows_do(make_project, tmp_path: Path) -> None:
    """The check counts a song's versions per song (one index probe each): an exact copy is no new
    version, a NULL differs from a value, and values are never confused by where a text splits."""
    songs = {
        "A/song1.json": json.dumps({**SONG, "artist_latitude": 48.8}).encode(),
        "B/song1-copy.json": json.dumps({**SONG, "artist_latitude": 48.8}).encode(),  # same content
        "C/song1-no-latitude.json": json.dumps(SONG).encode(),  # NULL latitude: a second version
        "A/song2.json": json.dumps({**SONG, "song_id": "SONG2", "title": "ab", "artist_name": "c"}).encode(),
        "B/song2.json": json.dumps({**SONG, "song_id": "SONG2", "title": "a", "artist_name": "bc"}).encode(),
        "A/song3.json": json.dumps({**SONG, "song_id": "SONG3"}).encode(),
        "B/song3.json": json.dumps({**SONG, "song_id": "SONG3"}).encode(),  # duplicates only: no conflict
    }
    project = make_project(write_source(tmp_path / "src", {DAY: lines_of(event())}, songs))
    assert project.stage(DAY)["songs"]["rows_loaded"] == 7
    project.transform(DAY)
    ((status, observed, sample),) = check_results(project, "staging_songs_conflicting_records")
    assert (status, observed) == ("warned", 2.0)
    assert sorted((row["song_id"], row["versions"]) for row in json.loads(sample)) == [("SONG1", 2), ("SONG2", 2)]


def test_values_are_normalised_as_the_contract_says(make_project, tmp_path: Path) -> None:
    """ts is epoch milliseconds; song year 0 and an empty artist location are NULL; user agents lose
    their quotes; an artist staged with different content keeps its first record by object key."""
    live = {**SONG, "song_id": "SONG3", "artist_name": "Artist (live)", "artist_location": "Reykjavik", "year": 2005}
    songs = {"A/s.json": json.dumps(SONG).encode(), "B/s.json": json.dumps(live).encode()}
    data = lines_of(event(ts=DAY_MS + 3_600_123, userAgent='"Mozilla/5.0 (X11)"'))
    project = make_project(write_source(tmp_path / "src", {DAY: data}, songs))
    project.stage(DAY)
    project.transform(DAY, run_checks=False)
    assert project.query("SELECT start_time, user_agent FROM songplays") == [
        (dt.datetime(2018, 11, 1, 1, 0, 0, 123000), "Mozilla/5.0 (X11)")
    ]
    assert project.query("SELECT hour, day, month, year FROM time") == [(1, 1, 11, 2018)]
    assert project.query("SELECT song_id, year FROM songs ORDER BY song_id") == [("SONG1", None), ("SONG3", 2005)]
    assert project.query("SELECT artist_id, name, location FROM artists") == [("ARTIST1", "Artist", None)]


def test_unstorable_object_names_are_stored_safely(make_project, tmp_path: Path) -> None:
    out = write_source(tmp_path / "src", {})
    (out / DAY_DIR).mkdir(parents=True)
    odd_name = os.fsencode(str(out / DAY_DIR)) + b"/" + DAY.encode() + b"-events-\xff\xfe.json"
    with open(odd_name, "wb") as handle:
        handle.write(lines_of(event()))
    deep = out / "song_data" / "/".join(["d" * 200] * 6)
    deep.mkdir(parents=True)
    (deep / "long.json").write_text(json.dumps({**SONG, "song_id": "SDEEP"}))
    project = make_project(out)

    first = project.stage(DAY)
    assert first["events"]["rows_loaded"] == 1 and first["songs"]["objects_loaded"] == 2
    keys = [
        k
        for (k,) in project.query(
            "SELECT source_key FROM load_manifest UNION ALL SELECT source_key FROM staging_events"
        )
    ]
    assert all(len(k) <= MAX_STORED_KEY for k in keys)
    assert any("\\xff\\xfe" in k and "#sha256:" in k for k in keys)
    assert any(k.startswith("song_data/ddd") and "#sha256:" in k for k in keys)
    assert project.stage(DAY)["songs"]["objects_loaded"] == 0  # the stored key finds its manifest entry


# --------------------------------------------------------------------------- property


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_SPLICES = st.one_of(
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
    st.tuples(st.sampled_from(list(event())), _JSON_VALUES).map(lambda fv: ("field", fv)),
    st.sampled_from([b"", b" ", b"\r", b"\xef\xbb\xbf", b"[" * 2000, b"1" * 5000]).map(lambda b: ("bytes", b)),
)


@pytest.fixture
def property_project(make_project, tmp_path: Path):
    out = write_source(tmp_path / "src", {DAY: lines_of(event())})
    project = make_project(out)
    set_max_rejected_share(project, 1.0)
    project.stage(DAY)
    return project, out / DAY_DIR / f"{DAY}-events.json"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(splices=st.lists(st.tuples(st.integers(0, 19), _SPLICES), min_size=1, max_size=6))
def test_no_byte_sequence_stops_staging_or_the_transform(property_project, splices: list) -> None:
    """Arbitrary bytes and JSON values spliced into a valid day: staging succeeds with the accounting
    holding, and the fact and every dimension load what it staged."""
    project, day_file = property_project
    lines = [json.dumps(event(ts=DAY_MS + i * 1000, itemInSession=i, userId=str(i % 4))).encode() for i in range(20)]
    for index, (kind, value) in splices:
        if kind == "bytes":
            lines[index] = value
        else:
            field, new = value
            record = json.loads(lines[index]) if lines[index].startswith(b"{") else event()
            record[field] = new
            lines[index] = json.dumps(record).encode()
    day_file.write_bytes(b"\n".join(lines))

    result = StageEventsOperator(task_id="s", partition_key=DAY, config_path=str(project.config_path)).execute({})
    assert result["records"] == result["rows_loaded"] + result["rejected"]
    assert result["raw_lines"] - result["blank_lines"] <= result["records"]
    staged = project.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (DAY,))
    rejected = project.scalar("SELECT COUNT(*) FROM rejected_lines WHERE partition_key = %s", (DAY,))
    assert (staged, rejected) == (result["rows_loaded"], result["rejected"])

    path = str(project.config_path)
    LoadFactOperator(task_id="f", partition_key=DAY, config_path=path).execute({})
    for kwargs in project.config.dimension_kwargs():
        LoadDimensionOperator(task_id="d", partition_key=DAY, config_path=path, **kwargs).execute({})
    expected = project.scalar(
        "SELECT COUNT(*) FROM (SELECT DISTINCT user_id, session_id, item_in_session, ts FROM staging_events"
        " WHERE partition_key = %s AND page = 'NextSong' AND user_id <> '') e",
        (DAY,),
    )
    assert project.scalar("SELECT COUNT(*) FROM songplays WHERE partition_key = %s", (DAY,)) == expected


def test_generated_late_events_and_blank_lines_are_loaded_counted_and_reported(
    make_project, generator, tmp_path: Path
) -> None:
    out = tmp_path / "src"
    shapes = generator.RareShapes(late_events=3, blank_lines=5)
    counts = generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 1), 20, 300, 20, 0.3, 5, shapes)
    project = make_project(out)
    staged = project.stage(DAY)["events"]
    project.transform(DAY)  # late events are valid: only warn-severity checks report them

    assert (staged["blank_lines"], staged["rejected"]) == (5, 0)
    assert staged["rows_loaded"] == counts["events"] + 3
    outside = project.scalar(
        "SELECT COUNT(*) FROM songplays WHERE CAST(start_time AS DATE) <> CAST(partition_key AS DATE)"
    )
    assert outside == 3
    assert check_results(project, "staging_events_ts_in_partition")[-1][:2] == ("warned", 3.0)
    assert check_results(project, "songplays_in_partition_day")[-1][:2] == ("warned", 3.0)
