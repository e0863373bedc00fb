"""Idempotency and order independence (design §3) on generated data, against real PostgreSQL.

Contract: re-running any partition, any number of times, in any order, with the concurrency
the DAGs allow, leaves every table identical to one clean in-order load.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.integration.conftest import days

START, END = dt.date(2018, 11, 1), dt.date(2018, 11, 6)


@pytest.fixture(scope="module")
def sample(generator, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("generated")
    counts = generator.generate(out, START, END, users=60, events_per_day=400, songs=60, match_share=0.2, seed=7)
    return out, counts


def test_generated_sample_counts_match_the_generator(make_project, sample) -> None:
    source, counts = sample
    project = make_project(source)
    project.run(days(1, 6))
    assert project.scalar("SELECT COUNT(*) FROM staging_events") == counts["events"]
    assert project.scalar("SELECT COUNT(*) FROM staging_songs") == counts["songs"]
    assert project.scalar("SELECT COUNT(*) FROM songplays") == counts["nextsong_with_user"]
    assert project.scalar("SELECT COUNT(*) FROM songplays WHERE song_id IS NOT NULL") == counts["nextsong_matched"]
    assert project.scalar("SELECT COUNT(*) FROM rejected_lines") == 0
    # Every partition's fact rows carry that partition's key and fall on that UTC day.
    assert (
        project.scalar("SELECT COUNT(*) FROM songplays WHERE CAST(start_time AS DATE) <> CAST(partition_key AS DATE)")
        == 0
    )
    # Latest level wins: each user's level equals the level of their newest event.
    assert (
        project.scalar(
            """
        SELECT COUNT(*) FROM users u
        JOIN (SELECT DISTINCT ON (user_id) user_id, level FROM staging_events WHERE user_id <> ''
              ORDER BY user_id, ts DESC, level DESC) latest USING (user_id)
        WHERE u.level <> latest.level
        """
        )
        == 0
    )
    assert project.scalar("SELECT COUNT(*) FROM time") == project.scalar(
        "SELECT COUNT(DISTINCT start_time) FROM songplays"
    )


def test_rerunning_a_partition_changes_nothing(make_project, sample) -> None:
    source, _ = sample
    project = make_project(source)
    project.run(days(1, 6))
    before = project.checksums()
    project.run(["2018-11-03", "2018-11-03", "2018-11-01"])
    assert project.checksums() == before


def test_reverse_and_concurrent_orders_are_identical(make_project, sample) -> None:
    source, _ = sample
    in_order = make_project(source)
    in_order.run(days(1, 6))
    expected = in_order.checksums()

    reverse = make_project(source)
    reverse.run(list(reversed(days(1, 6))))
    assert reverse.checksums() == expected

    concurrent = make_project(source)
    concurrent.run(
        ["2018-11-04", "2018-11-02", "2018-11-06", "2018-11-01", "2018-11-05", "2018-11-03", "2018-11-02"],
        concurrency=4,
    )
    assert concurrent.checksums() == expected


def test_restaging_replaces_only_its_partition(make_project, sample) -> None:
    source, _ = sample
    project = make_project(source)
    project.run(days(1, 3))
    per_day = dict(project.query("SELECT partition_key, COUNT(*) FROM staging_events GROUP BY 1"))
    project.stage("2018-11-02")
    assert dict(project.query("SELECT partition_key, COUNT(*) FROM staging_events GROUP BY 1")) == per_day
    assert sorted(per_day) == days(1, 3)


def test_restaging_a_replaced_day_keeps_exactly_its_new_objects(make_project, generator, tmp_path: Path) -> None:
    """A corrected day (the object replaced by a smaller one under another name) re-stages to exactly
    the new object's records: nothing of the old object survives in staging, rejections or the fact.

    Asserted on rows, so a re-stage that forgot to delete the partition first cannot pass by way of
    a primary-key error (the two objects' keys differ, nothing would collide)."""
    out = tmp_path / "src"
    generator.generate(out, START, START, users=20, events_per_day=300, songs=20, match_share=0.2, seed=3)
    day_dir = out / "log_data" / "2018" / "11"
    old = day_dir / "2018-11-01-events.json"
    lines = old.read_bytes().split(b"\n")
    old.write_bytes(b"\n".join([*lines, b"{not json"]))
    project = make_project(out)
    project.stage("2018-11-01")
    project.transform("2018-11-01", run_checks=False)
    assert project.scalar("SELECT COUNT(*) FROM rejected_lines") == 1

    old.unlink()
    (day_dir / "2018-11-01-events-corrected.json").write_bytes(b"\n".join(lines[:100]))
    result = project.stage("2018-11-01")["events"]
    project.transform("2018-11-01", run_checks=False)

    assert (result["rows_loaded"], result["rejected"]) == (100, 0)
    assert project.query("SELECT DISTINCT source_key FROM staging_events") == [
        ("log_data/2018/11/2018-11-01-events-corrected.json",)
    ]
    assert project.scalar("SELECT COUNT(*) FROM staging_events") == 100
    assert project.scalar("SELECT COUNT(*) FROM rejected_lines") == 0
    expected = project.scalar(
        "SELECT COUNT(DISTINCT (user_id, session_id, item_in_session, ts)) FROM staging_events"
        " WHERE page = 'NextSong' AND user_id <> ''"
    )
    assert project.scalar("SELECT COUNT(*) FROM songplays") == expected > 0
