"""Index DDL: per-partition and per-batch statements must not scan whole tables (issues 7 and 14)."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from sparkify.config import load_config
from sparkify.project import index_statements
from sparkify.sqlfiles import render


class FakeWarehouse:
    supports_indexes = True

    def table(self, name: str) -> str:
        return f'"s"."{name}"'


def indexes_by_table() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in index_statements(load_config(), FakeWarehouse()):
        parsed = sqlglot.parse_one(statement, read="postgres")
        assert isinstance(parsed, exp.Create) and parsed.args.get("exists") is True, statement
        found.setdefault(parsed.find(exp.Table).name, []).append(statement)
    return found


def test_songplays_has_a_partition_key_and_an_event_index() -> None:
    by_partition, by_event = indexes_by_table()["songplays"]
    assert '"songplays_partition_key_idx"' in by_partition
    assert by_partition.split(" ON ", 1)[1].endswith("(partition_key)")
    # The cross-partition check probes other partitions by event (without it: a scan per run),
    # led by start_time so a day's inserts stay local (not at random md5 positions).
    assert '"songplays_start_time_songplay_id_idx"' in by_event
    assert by_event.split(" ON ", 1)[1].endswith("(start_time, songplay_id)")
    check = render("quality/songplays_in_other_partitions.sql", songplays='"s"."songplays"')
    assert "this_day.start_time = other_day.start_time" in check


def test_song_staging_finds_a_batch_and_its_keys_through_indexes() -> None:
    staging = indexes_by_table()["staging_songs"]
    indexed = [re.split(r"\sON\s", s, maxsplit=1)[1].split(" ", 1)[1] for s in staging]
    assert indexed[:3] == ["(load_seq)", "(song_id)", "(artist_id)"]
    # The lookup refresh filters on exactly this expression (an index on anything else is not used).
    expression = indexed[3][1:-1]
    assert expression.startswith("MD5(") and "ROUND(CAST(duration AS NUMERIC(18, 5)), 3)" in expression
    fill = render("staging/song_lookup_fill.sql", this='"s"."staging_songs"', song_lookup="l", song_changes="c")
    assert f"WHERE {expression}\n" in fill


def test_incremental_dimensions_find_their_watermark_through_an_index() -> None:
    found = indexes_by_table()
    for table in ("songs", "artists"):
        (statement,) = found[table]
        assert statement.endswith("(load_seq)")


def test_a_warehouse_without_indexes_gets_no_index_statements() -> None:
    class NoIndexes(FakeWarehouse):
        supports_indexes = False

    assert index_statements(load_config(), NoIndexes()) == []
