"""Unit tests for ``sparkify.sources``: partition prefixes, the folder source and source selection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sparkify import sources
from sparkify.config import SourceConfig
from sparkify.source_layout import is_event_object
from sparkify.sources import (
    MAX_STORED_KEY,
    FolderSource,
    MissingPartitionError,
    S3Source,
    SourceObject,
    partition_objects,
    partition_prefix,
    source_for,
    storable_key,
)


def write(root: Path, key: str, data: bytes) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def keys(objects: list[SourceObject]) -> list[str]:
    return [o.key for o in objects]


def events(events_prefix: str = "log_data", **layout: str) -> SourceConfig:
    """A folder source's config with the default layout unless events_partition_prefix is given."""
    return SourceConfig("/data", "aws_default", events_prefix, "song_data", 1.0, **layout)


class TestPartitionPrefix:
    def test_layout(self) -> None:
        assert partition_prefix(events(), "2018-11-01") == "log_data/2018/11/2018-11-01"

    @pytest.mark.parametrize("prefix", ["log_data/", "/log_data", "/log_data/"])
    def test_slashes_stripped(self, prefix: str) -> None:
        assert partition_prefix(events(prefix), "2018-11-30") == "log_data/2018/11/2018-11-30"

    def test_nested_prefix(self) -> None:
        assert partition_prefix(events("raw/events"), "2019-01-05") == "raw/events/2019/01/2019-01-05"

    @pytest.mark.parametrize("key", ["20181101", "2018-11-1", "2018-02-30", ""])
    def test_bad_key(self, key: str) -> None:
        with pytest.raises(ValueError):
            partition_prefix(events(), key)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    for key, data in {
        "log_data/2018/11/2018-11-01-events.json": b'{"a":1}\n',
        "log_data/2018/11/2018-11-01-events-part2.json": b'{"a":2}\n{"a":3}',
        "log_data/2018/11/2018-11-11-events.json": b"x",
        "log_data/2018/11/2018-11-10-events.json": b"x",
        "log_data/2018/11/2018-11-02-events.json": b"x",
        "log_data/2018/12/2018-12-01-events.json": b"x",
        "log_data/2018/11/notes.txt": b"x",
        "song_data/A/B/C/TRABCEI128F424C983.json": b'{"song_id":"S1"}',
        "song_data/A/A/A/TRAAAAW128F429D538.json": b'{"song_id":"S2"}',
        "song_data/B/TRBBB.json": b'{"song_id":"S3"}',
    }.items():
        write(root, key, data)
    (root / "log_data/2018/11/2018-11-01-empty-dir").mkdir()
    return root


class TestFolderSourceList:
    def test_one_day_only(self, tree: Path) -> None:
        objects = FolderSource(str(tree)).list(partition_prefix(events(), "2018-11-01"))
        assert keys(objects) == [
            "log_data/2018/11/2018-11-01-events-part2.json",
            "log_data/2018/11/2018-11-01-events.json",
        ]

    def test_other_days_do_not_leak(self, tree: Path) -> None:
        source = FolderSource(str(tree))
        assert keys(source.list(partition_prefix(events(), "2018-11-11"))) == [
            "log_data/2018/11/2018-11-11-events.json"
        ]
        assert keys(source.list(partition_prefix(events(), "2018-12-01"))) == [
            "log_data/2018/12/2018-12-01-events.json"
        ]

    def test_sizes_and_sorted_keys(self, tree: Path) -> None:
        objects = FolderSource(str(tree)).list("song_data/")
        assert keys(objects) == [
            "song_data/A/A/A/TRAAAAW128F429D538.json",
            "song_data/A/B/C/TRABCEI128F424C983.json",
            "song_data/B/TRBBB.json",
        ]
        assert [o.size for o in objects] == [16, 16, 16]
        assert keys(objects) == sorted(keys(objects))

    def test_prefix_without_trailing_slash(self, tree: Path) -> None:
        assert len(FolderSource(str(tree)).list("song_data")) == 3

    def test_prefix_is_not_a_directory_name_match(self, tree: Path) -> None:
        # "song_data/A" matches every key starting with it, including deeper folders.
        assert keys(FolderSource(str(tree)).list("song_data/A")) == [
            "song_data/A/A/A/TRAAAAW128F429D538.json",
            "song_data/A/B/C/TRABCEI128F424C983.json",
        ]

    def test_directories_are_not_objects(self, tree: Path) -> None:
        objects = FolderSource(str(tree)).list("log_data/2018/11/2018-11-01")
        assert all((tree / o.key).is_file() for o in objects)
        assert "log_data/2018/11/2018-11-01-empty-dir" not in keys(objects)

    def test_missing_directory(self, tree: Path, tmp_path: Path) -> None:
        assert FolderSource(str(tree)).list(partition_prefix(events(), "2019-01-01")) == []
        assert FolderSource(str(tmp_path / "nowhere")).list("log_data/2018/11/2018-11-01") == []

    def test_empty_day(self, tree: Path) -> None:
        assert FolderSource(str(tree)).list(partition_prefix(events(), "2018-11-03")) == []


class TestFolderSourceVersions:
    KEY = "song_data/A/A/A/TRAAAAW128F429D538.json"

    def version(self, root: Path) -> str:
        (obj,) = FolderSource(str(root)).list(self.KEY)
        return obj.version

    def test_stable_when_unchanged(self, tree: Path) -> None:
        assert self.version(tree) == self.version(tree)

    def test_changes_when_size_changes(self, tree: Path) -> None:
        before = self.version(tree)
        write(tree, self.KEY, b'{"song_id":"S2", "year": 2001}')
        assert self.version(tree) != before

    def test_changes_when_same_size_content_rewritten_later(self, tree: Path) -> None:
        path = tree / self.KEY
        old_mtime = path.stat().st_mtime_ns
        before = self.version(tree)
        path.write_bytes(b'{"song_id":"S9"}')  # same size, different content
        # a later write: make sure the timestamp moves even on coarse-mtime filesystems
        os.utime(path, ns=(old_mtime + 2_000_000_000, old_mtime + 2_000_000_000))
        assert path.stat().st_size == 16
        assert self.version(tree) != before

    def test_version_format(self, tree: Path) -> None:
        path = tree / self.KEY
        stat = path.stat()
        assert self.version(tree) == f"{stat.st_size}-{stat.st_mtime_ns}"


class TestFolderSourceRead:
    def test_reassembles_file(self, tree: Path) -> None:
        key = "log_data/2018/11/2018-11-01-events-part2.json"
        assert b"".join(FolderSource(str(tree)).read(key)) == b'{"a":2}\n{"a":3}'

    def test_reads_in_chunks(self, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sources, "CHUNK_BYTES", 7)
        data = bytes(range(256)) * 3 + b"tail"
        write(tree, "log_data/2018/11/2018-11-05-events.json", data)
        chunks = list(FolderSource(str(tree)).read("log_data/2018/11/2018-11-05-events.json"))
        assert b"".join(chunks) == data
        assert all(len(c) == 7 for c in chunks[:-1])
        assert 0 < len(chunks[-1]) <= 7
        assert len(chunks) == -(-len(data) // 7)

    def test_empty_file_yields_nothing(self, tree: Path) -> None:
        write(tree, "log_data/2018/11/2018-11-06-events.json", b"")
        assert list(FolderSource(str(tree)).read("log_data/2018/11/2018-11-06-events.json")) == []

    def test_missing_key(self, tree: Path) -> None:
        with pytest.raises(FileNotFoundError):
            list(FolderSource(str(tree)).read("log_data/2018/11/nope.json"))

    def test_listed_keys_are_readable(self, tree: Path) -> None:
        source = FolderSource(str(tree))
        for obj in source.list("song_data/"):
            assert len(b"".join(source.read(obj.key))) == obj.size


def source_config(uri: str) -> SourceConfig:
    return SourceConfig(
        uri=uri, aws_conn_id="aws_test", events_prefix="log_data", songs_prefix="song_data", wait_timeout_hours=6
    )


class TestSourceFor:
    def test_s3(self) -> None:
        source = source_for(source_config("s3://udacity-dend/sparkify"))
        assert source == S3Source("s3://udacity-dend/sparkify", "aws_test")
        assert source._bucket_prefix() == ("udacity-dend", "sparkify")

    def test_s3_bucket_only(self) -> None:
        source = source_for(source_config("s3://udacity-dend"))
        assert isinstance(source, S3Source)
        assert source._bucket_prefix() == ("udacity-dend", "")

    def test_folder(self, tmp_path: Path) -> None:
        assert source_for(source_config(str(tmp_path))) == FolderSource(str(tmp_path))


class TestEventObjects:
    """Only the day's log objects are staged; debris under the prefix is listed as ignored."""

    @pytest.mark.parametrize(
        ("key", "staged"),
        [
            ("log_data/2018/11/2018-11-01-events.json", True),
            ("log_data/2018/11/2018-11-01-events-part2.json", True),
            ("log_data/2018/11/2018-11-01.json", True),
            ("log_data/2018/11/2018-11-01-events.json.bak", False),
            ("log_data/2018/11/2018-11-01-events.json.tmp", False),
            ("log_data/2018/11/2018-11-01-events.JSON", False),
            ("log_data/2018/11/2018-11-01/_SUCCESS", False),
            ("log_data/2018/11/2018-11-01/part-0.json", False),
            ("log_data/2018/11/2018-11-011-events.json", False),  # under the prefix, but not the day's name
            ("log_data/2018/11/2018-11-02-events.json", False),
            ("other/2018/11/2018-11-01-events.json", False),
        ],
    )
    def test_pattern(self, key: str, staged: bool) -> None:
        assert is_event_object(key, partition_prefix(events(), "2018-11-01")) is staged

    def test_listing_splits_objects_and_ignored(self, tmp_path: Path) -> None:
        day = tmp_path / "log_data" / "2018" / "11"
        day.mkdir(parents=True)
        for name in ("2018-11-01-events.json", "2018-11-01-events.json.bak", "2018-11-01-b.json"):
            (day / name).write_text("{}")
        config = SourceConfig(str(tmp_path), "aws_default", "log_data", "song_data", 1.0)
        listing = partition_objects(FolderSource(str(tmp_path)), config, "2018-11-01")
        assert keys(listing.objects) == [
            "log_data/2018/11/2018-11-01-b.json",
            "log_data/2018/11/2018-11-01-events.json",
        ]
        assert keys(listing.ignored) == ["log_data/2018/11/2018-11-01-events.json.bak"]

    def test_only_debris_is_a_missing_partition_naming_the_ignored(self, tmp_path: Path) -> None:
        day = tmp_path / "log_data" / "2018" / "11"
        day.mkdir(parents=True)
        (day / "2018-11-01-events.json.tmp").write_text("{}")
        config = SourceConfig(str(tmp_path), "aws_default", "log_data", "song_data", 1.0)
        with pytest.raises(MissingPartitionError, match="1 other object"):
            partition_objects(FolderSource(str(tmp_path)), config, "2018-11-01")


class TestStorableKey:
    def test_ordinary_key_unchanged(self) -> None:
        assert storable_key("song_data/A/B/C/TRABC.json") == "song_data/A/B/C/TRABC.json"

    @pytest.mark.parametrize(
        "key",
        [
            "log_data/2018/11/2018-11-01-\udcff\udcfe.json",  # undecodable file-name bytes (surrogateescape)
            "log_data/" + "x" * 2000 + ".json",
            "log_data/a\x00b.json",
            "log_data/\ud800.json",  # a lone surrogate that is not a surrogate escape
        ],
    )
    def test_unstorable_keys_become_storable_unique_and_stable(self, key: str) -> None:
        stored = storable_key(key)
        assert len(stored) <= MAX_STORED_KEY
        stored.encode("utf-8")  # storable in a UTF-8 database
        assert "\x00" not in stored and "#sha256:" in stored
        assert storable_key(key) == stored
        assert storable_key(key + "2") != stored
