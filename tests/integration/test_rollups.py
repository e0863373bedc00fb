"""Monthly rollups (issue 15) against real PostgreSQL: equal to an independent computation from
the month's songplays, independent of the order days were loaded in, and idempotent when a day
of an already rolled-up month changes.

The expected figures are computed here in Python from the songplays rows, not with the rollup
SQL, so a wrong aggregate, a month boundary off by one day or a double-counted event fails.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.sdk.execution_time.context import OutletEventAccessors

from sparkify.assets import ROLLUP_REQUESTS
from sparkify.operators.request_rollup import RequestRollupOperator
from tests.integration.conftest import days

#: Three days at the end of one month and three at the start of the next: month boundaries.
NOVEMBER = days(28, 30)
DECEMBER = days(1, 3, month="2018-12")
ALL_DAYS = NOVEMBER + DECEMBER
ROLLUP_TABLES = ("user_activity_monthly", "song_ranking_monthly")


@pytest.fixture(scope="module")
def sample(generator: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rollups")
    shapes = generator.RareShapes(duplicates=2, conflicting=1, late_events=2)
    generator.generate(out, dt.date(2018, 11, 28), dt.date(2018, 12, 3), 25, 200, 30, 0.5, 11, shapes)
    # One event delivered again in the next day's file within the month, one across the month
    # boundary: a play counts once per month, and in each month whose days hold it.
    for day, next_day in (("2018-11-28", "2018-11-29"), ("2018-11-30", "2018-12-01")):
        line = next(
            line
            for line in day_file(out, day).read_bytes().split(b"\n")
            if b'"NextSong"' in line and b'"userId":""' not in line
        )
        target = day_file(out, next_day)
        target.write_bytes(target.read_bytes() + b"\n" + line)
    return out


def day_file(root: Path, day: str) -> Path:
    return root / "log_data" / day[:4] / day[5:7] / f"{day}-events.json"


def expected_rollups(project: Any, month: str) -> dict[str, set[tuple]]:
    """Both rollups of month, computed in Python from the fact's rows of the month's days."""
    rows = project.query(
        "SELECT songplay_id, partition_key, user_id, session_id, song_id, artist_id, level, start_time "
        "FROM songplays WHERE substr(partition_key, 1, 7) = %s",
        (month,),
    )
    plays: dict[str, set[str]] = defaultdict(set)
    sessions: dict[str, set[int]] = defaultdict(set)
    songs: dict[str, set[str]] = defaultdict(set)
    latest: dict[str, tuple] = {}
    song_plays: dict[str, set[str]] = defaultdict(set)
    listeners: dict[str, set[str]] = defaultdict(set)
    artists: dict[str, set[str]] = defaultdict(set)
    for songplay_id, _day, user_id, session_id, song_id, artist_id, level, start_time in rows:
        plays[user_id].add(songplay_id)
        sessions[user_id].add(session_id)
        if song_id is not None:
            songs[user_id].add(song_id)
            song_plays[song_id].add(songplay_id)
            listeners[song_id].add(user_id)
            artists[song_id].add(artist_id)
        if level is not None:
            latest[user_id] = max(
                latest.get(user_id, (start_time, level, songplay_id)), (start_time, level, songplay_id)
            )
    users = {
        (month, user, len(ids), len(sessions[user]), len(songs[user]), latest[user][1] if user in latest else None)
        for user, ids in plays.items()
    }
    counts = {song: len(ids) for song, ids in song_plays.items()}
    ranking = {
        (
            month,
            song,
            min(artists[song]),
            played,
            len(listeners[song]),
            1 + sum(1 for other in counts.values() if other > played),
        )
        for song, played in counts.items()
    }
    return {"user_activity_monthly": users, "song_ranking_monthly": ranking}


def loaded_rollups(project: Any, month: str) -> dict[str, set[tuple]]:
    return {
        "user_activity_monthly": set(
            project.query(
                "SELECT month, user_id, plays, sessions, distinct_songs, level_at_month_end "
                "FROM user_activity_monthly WHERE month = %s",
                (month,),
            )
        ),
        "song_ranking_monthly": set(
            project.query(
                "SELECT month, song_id, artist_id, plays, listeners, play_rank "
                "FROM song_ranking_monthly WHERE month = %s",
                (month,),
            )
        ),
    }


def rollup_checksums(project: Any) -> dict[str, str]:
    return {table: value for table, value in project.checksums().items() if table in ROLLUP_TABLES}


def test_rollups_equal_an_independent_computation_from_the_months_songplays(make_project, sample: Path) -> None:
    project = make_project(sample)
    project.run(ALL_DAYS)
    for month in ("2018-11", "2018-12"):
        rows = project.rollup(month)
        expected = expected_rollups(project, month)
        assert loaded_rollups(project, month) == expected
        assert rows == [len(expected[table]) for table in ROLLUP_TABLES]
        assert len(expected["user_activity_monthly"]) > 10 and len(expected["song_ranking_monthly"]) > 5
    # The months do not leak into each other: each user's plays sum to the fact's distinct events.
    for month, month_days in (("2018-11", NOVEMBER), ("2018-12", DECEMBER)):
        total = project.scalar("SELECT SUM(plays) FROM user_activity_monthly WHERE month = %s", (month,))
        distinct = project.scalar(
            "SELECT COUNT(DISTINCT songplay_id) FROM songplays WHERE partition_key = ANY(%s)", (month_days,)
        )
        assert total == distinct
    statuses = project.query("SELECT DISTINCT status FROM dq_results WHERE check_name LIKE %s", ("%monthly%",))
    assert statuses == [("passed",)]
    # The re-delivered events: loaded in two partitions each, counted once in November.
    shared = project.query(
        "SELECT MIN(partition_key), MAX(partition_key) FROM songplays "
        "GROUP BY songplay_id HAVING COUNT(*) = 2 ORDER BY 1"
    )
    assert shared == [("2018-11-28", "2018-11-29"), ("2018-11-30", "2018-12-01")]


@pytest.mark.parametrize("seed", [1, 2])
def test_days_loaded_in_any_order_then_rolled_up_are_identical(make_project, sample: Path, seed: int) -> None:
    clean = make_project(sample)
    clean.run(ALL_DAYS)
    for month in ("2018-11", "2018-12"):
        clean.rollup(month)

    shuffled = make_project(sample)
    order = [*ALL_DAYS, ALL_DAYS[seed]]  # one day repeated
    random.Random(seed).shuffle(order)
    shuffled.run(order)
    for month in ("2018-12", "2018-11", "2018-12"):  # rolled up in reverse, one twice
        shuffled.rollup(month)
    assert rollup_checksums(shuffled) == rollup_checksums(clean)
    assert all(shuffled.scalar(f"SELECT COUNT(*) FROM {table}") > 0 for table in ROLLUP_TABLES)


def test_a_changed_day_rolled_up_again_equals_a_clean_load(make_project, sample: Path, tmp_path: Path) -> None:
    """Re-running a month after one of its days changed replaces the month: no stale rows remain."""
    project = make_project(sample)
    project.run(ALL_DAYS)
    project.rollup("2018-11")
    project.rollup("2018-12")
    before = loaded_rollups(project, "2018-11")
    december = loaded_rollups(project, "2018-12")

    # Corrected files: one user's events leave every November day, and 2018-11-29 loses its second
    # half. The days are re-staged and re-transformed, then the month is rolled up again.
    victim = project.scalar("SELECT MIN(user_id) FROM user_activity_monthly WHERE month = '2018-11'")
    changed = tmp_path / "changed"
    for path in sample.rglob("*.json"):
        target = changed / path.relative_to(sample)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        if path.name[:7] == "2018-11":
            lines = [line for line in data.split(b"\n") if json.loads(line).get("userId") != victim]
            if path == day_file(sample, "2018-11-29"):
                lines = lines[: len(lines) // 2]
            data = b"\n".join(lines)
        target.write_bytes(data)
    project.config_path.write_text(project.config_path.read_text().replace(str(sample), str(changed)))
    project.run(NOVEMBER)
    project.rollup("2018-11")

    after = loaded_rollups(project, "2018-11")
    assert after == expected_rollups(project, "2018-11")
    assert after["user_activity_monthly"] != before["user_activity_monthly"]
    assert victim in {row[1] for row in before["user_activity_monthly"]}
    assert victim not in {row[1] for row in after["user_activity_monthly"]}  # no stale row stays
    assert loaded_rollups(project, "2018-12") == december  # the other month is untouched
    clean = make_project(changed)
    clean.run(ALL_DAYS)
    clean.rollup("2018-11")
    assert loaded_rollups(clean, "2018-11") == after


def test_the_reconciliation_check_fails_a_rollup_that_disagrees_with_the_fact(make_project, sample: Path) -> None:
    project = make_project(sample)
    project.run(NOVEMBER)
    project.rollup("2018-11")
    user = project.scalar("SELECT MIN(user_id) FROM user_activity_monthly")
    project.query("UPDATE user_activity_monthly SET plays = plays + 1 WHERE user_id = %s RETURNING 1", (user,))
    with pytest.raises(AirflowFailException, match="user_activity_monthly_matches_songplays"):
        project.check_rollups("2018-11")
    failed = project.query(
        "SELECT observed FROM dq_results WHERE check_name = 'user_activity_monthly_matches_songplays' "
        "AND status = 'failed'"
    )
    assert failed == [(1.0,)]
    project.rollup("2018-11")  # re-running the month repairs it


@pytest.mark.parametrize("key", ["2018-13", "2018-11-05", "", "November"])
def test_a_rollup_run_refuses_a_key_that_is_not_a_month(make_project, sample: Path, key: str) -> None:
    project = make_project(sample)
    with pytest.raises(AirflowFailException, match="YYYY-MM"):
        project.rollup(key)


def request_rollup(project: Any, day: str) -> tuple[str | None, set[str]]:
    """Run request_rollup for day as the transform does; (its result or None when skipped, emitted keys)."""
    events = OutletEventAccessors()
    operator = RequestRollupOperator(task_id="request_rollup", partition_key=day, config_path=str(project.config_path))
    try:
        result = operator.execute({"outlet_events": events})
    except AirflowSkipException:
        result = None
    return result, set(events[ROLLUP_REQUESTS].partition_keys)


def test_a_day_asks_for_its_month_again_only_when_its_rollup_missed_the_days_rows(make_project, sample: Path) -> None:
    project = make_project(sample)
    project.run(NOVEMBER)
    assert request_rollup(project, "2018-11-29") == (None, set())  # the RollupMapper still waits
    project.rollup("2018-11")
    # The run read every day's current version (the last day's own event fires it): no second run.
    assert request_rollup(project, "2018-11-30") == (None, set())
    project.run(["2018-11-29"])  # re-published after the rollup: a new version the rollup never read
    assert request_rollup(project, "2018-11-29") == ("2018-11", {"2018-11"})
    assert request_rollup(project, "2018-11-30") == (None, set())  # unchanged since the rollup
    project.rollup("2018-11")  # the requested run reads the new version
    assert request_rollup(project, "2018-11-29") == (None, set())
    project.run(DECEMBER[:1])
    assert request_rollup(project, "2018-12-01") == (None, set())  # another month: untouched
    assert project.query("SELECT month FROM rollup_months") == [("2018-11",)]


def test_a_day_published_before_its_months_run_never_asks_again_while_the_run_starts(
    make_project, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The month's last day fires the run, then asks right away while the run notes what it reads:
    at every commit the run makes before it reads the fact, the day must not ask for a second run."""
    from sparkify.warehouse.postgres import PostgresWarehouse

    project = make_project(sample)
    project.run(NOVEMBER)
    seen: list[tuple[str, tuple[str | None, set[str]]]] = []
    upsert = PostgresWarehouse.upsert_from_select

    def upsert_then_ask(self: PostgresWarehouse, table: str, *args: Any, **kwargs: Any) -> int:
        rows = upsert(self, table, *args, **kwargs)
        if table in ("rollup_months", "rollup_reads"):
            seen.append((table, request_rollup(project, "2018-11-30")))
        return rows

    monkeypatch.setattr(PostgresWarehouse, "upsert_from_select", upsert_then_ask)
    project.rollup("2018-11", run_checks=False)
    assert all(asked == (None, set()) for _, asked in seen), seen
    assert {table for table, _ in seen} == {"rollup_reads", "rollup_months"}
