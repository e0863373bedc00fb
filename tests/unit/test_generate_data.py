"""Unit tests for scripts/generate_data.py.

The generator feeds every other test and benchmark, so these tests pin down the
things downstream code relies on: byte-determinism, day independence, the exact
file layout and JSON shape of the real Sparkify sample, and each data quirk.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_data.py"
LOG_KEYS = ["artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level",
            "location", "method", "page", "registration", "sessionId", "song", "status", "ts",
            "userAgent", "userId"]
SONG_KEYS = ["num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location",
             "artist_name", "song_id", "title", "duration", "year"]
USER_FIELDS = ["firstName", "gender", "lastName", "location", "registration", "userAgent"]
START, END = date(2018, 11, 1), date(2018, 11, 3)
PARAMS = {"users": 100, "events_per_day": 400, "songs": 20, "match_share": 0.3, "seed": 7}


def _load():
    # scripts/ is not a package: load the module from its path (registered in
    # sys.modules so that anything introspecting the module works).
    spec = importlib.util.spec_from_file_location("generate_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_data"] = module
    spec.loader.exec_module(module)
    return module


gd = _load()


def repair(s: str) -> str:
    """Inverse of the double-Latin-1 mojibake found in the real logs."""
    return s.encode("latin-1").decode("utf-8").encode("latin-1").decode("utf-8")


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def day_of(path: str) -> date:
    return date.fromisoformat(Path(path).name[:10])


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("gen")
    return root, gd.generate(root, START, END, **PARAMS)


@pytest.fixture(scope="module")
def logs(out) -> dict[str, list[dict]]:
    root, _ = out
    return {k: [json.loads(line) for line in v.split(b"\n")]
            for k, v in files(root).items() if k.startswith("log_data/")}


@pytest.fixture(scope="module")
def songs(out) -> list[dict]:
    root, _ = out
    return [json.loads(v) for k, v in files(root).items() if k.startswith("song_data/")]


def test_layout_and_counts(out, logs, songs):
    root, counts = out
    assert sorted(logs) == [f"log_data/2018/11/2018-11-0{d}-events.json" for d in (1, 2, 3)]
    song_paths = [p for p in files(root) if p.startswith("song_data/")]
    assert len(song_paths) == PARAMS["songs"] == counts["songs"]
    for p in song_paths:
        parts = p.split("/")
        tid = parts[-1].removesuffix(".json")
        assert len(parts) == 5 and tid.startswith("TR") and len(tid) == 18
        assert parts[1:4] == [tid[2], tid[3], tid[4]]
    events = [r for rows in logs.values() for r in rows]
    assert counts["events"] == len(events) == 3 * PARAMS["events_per_day"]
    assert counts["files"] == len(logs) + len(song_paths)
    nexts = [r for r in events if r["page"] == "NextSong"]
    assert counts["nextsong"] == len(nexts)
    assert counts["nextsong_with_user"] == sum(r["userId"] != "" for r in nexts)


def test_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert gd.generate(a, START, END, **PARAMS) == gd.generate(b, START, END, **PARAMS)
    assert files(a) == files(b)


def test_day_independence(out, tmp_path):
    root, _ = out
    gd.generate(tmp_path, date(2018, 11, 2), date(2018, 11, 2), **PARAMS)
    sub, full = files(tmp_path), files(root)
    assert sub and all(full[k] == v for k, v in sub.items())
    assert [k for k in sub if k.startswith("log_data/")] == ["log_data/2018/11/2018-11-02-events.json"]


def test_seed_changes_output(out, tmp_path):
    root, _ = out
    gd.generate(tmp_path, START, START, **{**PARAMS, "seed": 8})
    name = "log_data/2018/11/2018-11-01-events.json"
    assert files(tmp_path)[name] != files(root)[name]


def test_no_trailing_newline_and_ascii(out):
    root, _ = out
    for name, raw in files(root).items():
        assert raw and not raw.endswith(b"\n"), name
        assert raw.isascii(), name  # non-ASCII is \u-escaped, as in the real files


def test_log_lines_schema(out, logs):
    root, _ = out
    for name, rows in logs.items():
        day_ms = int(datetime.combine(day_of(name), datetime.min.time(), UTC).timestamp()) * 1000
        assert b"\\/" in (root / name).read_bytes()
        assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)
        for r in rows:
            assert list(r) == LOG_KEYS
            assert type(r["ts"]) is int and day_ms <= r["ts"] < day_ms + 86_400_000
            assert type(r["itemInSession"]) is int and type(r["sessionId"]) is int
            assert type(r["status"]) is int and isinstance(r["userId"], str)
            assert r["level"] in ("free", "paid")
            assert r["method"] in ("GET", "PUT")
            if r["userId"]:
                assert r["auth"] == "Logged In"
                assert type(r["registration"]) is float and r["registration"].is_integer()
                ua = r["userAgent"]
                assert ua.startswith('"') and ua.endswith('"') and len(ua) > 2
                assert r["gender"] in ("M", "F") and r["firstName"] and r["lastName"]
            if r["page"] == "NextSong":
                assert isinstance(r["artist"], str) and isinstance(r["song"], str)
                assert type(r["length"]) is float and r["userId"]
            else:
                assert r["artist"] is None and r["song"] is None and r["length"] is None


def test_logged_out_events(logs):
    anon = [r for rows in logs.values() for r in rows if r["userId"] == ""]
    assert anon
    assert {r["auth"] for r in anon} <= {"Logged Out", "Guest"}
    assert "Logged Out" in {r["auth"] for r in anon}
    for r in anon:
        assert all(r[k] is None for k in USER_FIELDS)


def test_song_files(songs):
    assert all(list(s) == SONG_KEYS for s in songs)
    assert any(s["year"] == 0 for s in songs) and any(s["year"] > 0 for s in songs)
    assert any(s["artist_location"] == "" for s in songs)
    assert any(s["artist_latitude"] is None and s["artist_longitude"] is None for s in songs)
    assert any(isinstance(s["artist_latitude"], float) for s in songs)
    assert len({s["artist_id"] for s in songs}) < len(songs)  # some artists share songs
    assert len({s["song_id"] for s in songs}) == len(songs)
    assert any(not s["artist_name"].isascii() for s in songs)  # stored as correct text
    assert all(type(s["duration"]) is float and s["num_songs"] == 1 for s in songs)


def test_mojibake_repairs_to_catalogue(logs, songs):
    assert repair(gd.mojibake("Sigur Rós")) == "Sigur Rós" == repair("Sigur RÃ\x83Â³s")
    names = {s["artist_name"] for s in songs} | {s["title"] for s in songs}
    broken = [v for rows in logs.values() for r in rows for v in (r["artist"], r["song"])
              if v and not v.isascii()]
    assert broken
    assert all(repair(v) != v for v in broken)  # every non-ASCII log string is mojibake
    assert any(repair(v) in names and not repair(v).isascii() for v in broken)


def test_level_changes_within_day(logs):
    found = set()
    for rows in logs.values():
        per_user = defaultdict(list)
        for r in rows:
            if r["userId"]:
                per_user[r["userId"]].append(r)
        for events in per_user.values():
            for prev, nxt in pairwise(events):
                if prev["page"] in ("Submit Upgrade", "Submit Downgrade"):
                    old = "free" if prev["page"] == "Submit Upgrade" else "paid"
                    assert prev["level"] == old and nxt["level"] != old
                    found.add(prev["page"])
    assert found == {"Submit Upgrade", "Submit Downgrade"}


def test_matched_nextsong(out, logs, songs):
    _, counts = out
    catalogue = {(s["title"], s["artist_name"], s["duration"]) for s in songs}
    plays = [(repair(r["song"]), repair(r["artist"]), r["length"])
             for rows in logs.values() for r in rows if r["page"] == "NextSong"]
    matched = [p for p in plays if p in catalogue]
    assert len(matched) == counts["nextsong_matched"] > 0
    assert 0.15 < len(matched) / len(plays) < 0.45  # match_share=0.3
    assert len({(t, a) for t, a, _ in matched}) > 1


@pytest.mark.parametrize(("share", "expected"), [(0.0, 0.0), (1.0, 1.0)])
def test_match_share_extremes(tmp_path, share, expected):
    counts = gd.generate(tmp_path, START, START, **{**PARAMS, "match_share": share})
    assert counts["nextsong_matched"] == expected * counts["nextsong"]


def test_same_ts_different_users(logs):
    for rows in logs.values():
        by_ts = defaultdict(set)
        for r in rows:
            if r["userId"]:
                by_ts[r["ts"]].add(r["userId"])
        assert any(len(u) > 1 for u in by_ts.values())


def test_user_profiles_stable_and_levels_consistent_across_days():
    few, many = gd.make_users(7, 5), gd.make_users(7, 50)
    assert many[:5] == few
    for u in many:
        for o in range(START.toordinal(), START.toordinal() + 60):
            paid, toggles = gd.level_today(u, date.fromordinal(o))
            next_paid, _ = gd.level_today(u, date.fromordinal(o + 1))
            assert next_paid == (paid ^ toggles)


def test_cli(tmp_path, capsys):
    counts = gd.main(["--out", str(tmp_path), "--start", "2018-11-30", "--end", "2018-12-01",
                      "--events-per-day", "50", "--songs", "5", "--users", "10"])
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "2 log files" in line and "100 events" in line
    assert counts["events"] == 100
    assert (tmp_path / "log_data/2018/12/2018-12-01-events.json").exists()
    with pytest.raises(SystemExit):
        gd.main(["--out", str(tmp_path), "--start", "2018-11-02", "--end", "2018-11-01"])


@pytest.mark.parametrize(
    ("template", "day_file"),
    [
        ("log_data/year={{ year }}/month={{ month }}/day={{ day }}/", "log_data/year=2018/month=11/day=02/events.json"),
        ("events/{{ ds }}", "events/2018-11-02-events.json"),
    ],
)
def test_other_layouts_hold_the_same_files(out, tmp_path, template, day_file):
    root, counts = out
    assert gd.generate(tmp_path, START, END, **PARAMS, events_partition_prefix=template) == counts
    default, other = files(root), files(tmp_path)
    assert other[day_file] == default["log_data/2018/11/2018-11-02-events.json"]
    assert sorted(v for k, v in other.items() if not k.startswith("song_data/")) == sorted(
        v for k, v in default.items() if k.startswith("log_data/")
    )


def test_cli_layout(tmp_path, capsys):
    hive = "log_data/year={{ year }}/month={{ month }}/day={{ day }}/"
    gd.main(["--out", str(tmp_path), "--start", "2018-12-01", "--end", "2018-12-01", "--events-per-day", "5",
             "--songs", "2", "--users", "3", "--events-partition-prefix", hive])
    assert (tmp_path / "log_data/year=2018/month=12/day=01/events.json").exists()
    with pytest.raises(SystemExit):  # no day in it: refused like config.json refuses it, before writing
        gd.main(["--out", str(tmp_path / "x"), "--events-partition-prefix", "log_data/{{ year }}"])
    assert "must contain the day" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
