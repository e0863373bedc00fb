"""source.events_partition_prefix: rendering, validation at config load, each layout's object filter and day range."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sparkify.config import REPO_ROOT, ConfigError, SourceConfig, load_config
from sparkify.config_model import DEFAULT_EVENTS_PARTITION_PREFIX
from sparkify.partitions import data_range
from sparkify.source_layout import layout_of, layout_problems, partition_layout
from sparkify.sources import FolderSource, SourceObject, list_partition, partition_prefix

UDACITY = DEFAULT_EVENTS_PARTITION_PREFIX
HIVE = "log_data/year={{ year }}/month={{ month }}/day={{ day }}/"
FLAT = "events/{{ ds }}"
KEY = "$.source.events_partition_prefix"


def source(template: str = UDACITY, uri: str = "/data") -> SourceConfig:
    return SourceConfig(uri, "aws_default", "log_data", "song_data", 1.0, events_partition_prefix=template)


class TestRendering:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            (UDACITY, "log_data/2018/11/2018-11-05"),
            (HIVE, "log_data/year=2018/month=11/day=05/"),
            (FLAT, "events/2018-11-05"),
            ("raw/dt={{ partition_key }}/", "raw/dt=2018-11-05/"),
            ("{{ events_prefix }}/{{ year }}{{ month }}{{ day }}-", "log_data/20181105-"),
        ],
    )
    def test_prefix_of_a_day(self, template: str, expected: str) -> None:
        assert partition_prefix(source(template), "2018-11-05") == expected

    def test_default_is_the_udacity_layout(self) -> None:
        assert SourceConfig("/data", "aws_default", "log_data", "song_data", 1.0).events_partition_prefix == UDACITY
        assert load_config().source.events_partition_prefix == UDACITY

    def test_compiled_once_per_template(self) -> None:
        assert layout_of(source(HIVE)) is layout_of(source(HIVE))
        assert layout_of(source(HIVE)) is not layout_of(source(FLAT))

    def test_an_invalid_template_is_never_compiled(self) -> None:
        with pytest.raises(ValueError, match="must contain the day"):
            partition_layout("log_data/{{ year }}", "log_data")


@pytest.fixture
def write_config(tmp_path: Path):
    """Write the shipped config with source changes; return its path."""

    def write(**changes: object) -> Path:
        document = json.loads((REPO_ROOT / "config.json").read_text())
        document["source"].update(changes)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document))
        return path

    return write


class TestValidation:
    @pytest.mark.parametrize("template", [UDACITY, HIVE, FLAT, "{{ ds }}", "e/{{ ds }}/{{ partition_key }}/"])
    def test_layouts_load(self, write_config, template: str) -> None:
        config = load_config(write_config(events_partition_prefix=template))
        assert config.source.events_partition_prefix == template

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ events_prefix }}/{{ year }}/{{ month }}", "renders the same prefix 'log_data/2018/11' for 2018-11-01"),
            ("log_data/static", "must contain the day"),
            ("/log_data/{{ ds }}", "renders '/log_data/2018-11-01' for 2018-11-01: not a relative key prefix"),
            ("log_data/../{{ ds }}", "not a relative key prefix"),
            ("log_data/{{ dt }}", "cannot be rendered: 'dt' is undefined (variables: ds, partition_key, year,"),
            ("log_data/{{ ds }", "is not a valid Jinja template"),
            ("log_data/{{ ds | replace('-', '') }}", "the day cannot be read back from 'log_data/20181101'"),
            ("log_data/{{ ''.__class__ }}{{ ds }}", "cannot be rendered: access to attribute '__class__'"),
            # Without the digit rule 2018-11-1's prefix would hold 2018-11-10's objects: refused as
            # unreadable, and never a day's objects of another day.
            ("e/{{ year }}-{{ month }}-{{ day | int }}", "the day cannot be read back from 'e/2018-11-1'"),
        ],
    )
    def test_bad_template_names_the_key(self, write_config, template: str, reason: str) -> None:
        with pytest.raises(ConfigError) as info:
            load_config(write_config(events_partition_prefix=template))
        (problem,) = info.value.problems
        assert problem.startswith(f"{KEY}: ")
        assert reason in problem

    def test_reported_with_the_other_problems(self, write_config) -> None:
        with pytest.raises(ConfigError) as info:
            load_config(write_config(events_partition_prefix="/{{ ds }}", aws_conn_id="no spaces"))
        assert [problem.split(":")[0] for problem in info.value.problems] == ["$.source.aws_conn_id", KEY]

    def test_empty_template_is_a_schema_error(self, write_config) -> None:
        with pytest.raises(ConfigError, match=r"\$\.source\.events_partition_prefix: '' should be non-empty"):
            load_config(write_config(events_partition_prefix=""))

    def test_one_days_objects_are_never_another_days(self) -> None:
        # 2018-11-05's prefix is "e/2018/" and holds every other day's "e/2018/MM-DD…" objects.
        template = "e/{{ year }}/{% if ds != '2018-11-05' %}{{ month }}-{{ day }}{% endif %}"
        (problem,) = layout_problems(template, "log_data")
        assert "would also be staged as 2018-11-05's (prefix 'e/2018/')" in problem


#: Per layout: the objects of 2018-11-01, and the debris and other days' objects around them.
LAYOUTS = {
    "udacity": (
        UDACITY,
        ["log_data/2018/11/2018-11-01-events.json", "log_data/2018/11/2018-11-01-part2.json"],
        [
            "log_data/2018/11/2018-11-01-events.json.bak",
            "log_data/2018/11/2018-11-01-events.json.tmp",
            "log_data/2018/11/2018-11-01/_SUCCESS",
            "log_data/2018/11/2018-11-01/part-0.json",
        ],
        ["log_data/2018/11/2018-11-10-events.json", "log_data/2018/12/2018-12-01-events.json"],
    ),
    "hive": (
        HIVE,
        ["log_data/year=2018/month=11/day=01/000000_0.json", "log_data/year=2018/month=11/day=01/events.json"],
        [
            "log_data/year=2018/month=11/day=01/_SUCCESS",
            "log_data/year=2018/month=11/day=01/events.json.bak",
            "log_data/year=2018/month=11/day=01/events.json.tmp",
            "log_data/year=2018/month=11/day=01/retry/events.json",
        ],
        ["log_data/year=2018/month=11/day=10/events.json", "log_data/year=2018/month=12/day=01/events.json"],
    ),
    "flat": (
        FLAT,
        ["events/2018-11-01-a.json", "events/2018-11-01.json"],
        ["events/2018-11-01.json.bak", "events/2018-11-01.json.tmp", "events/2018-11-01/_SUCCESS",
         "events/2018-11-01/x.json", "events/2018-11-011.json"],
        ["events/2018-11-10.json", "events/2018-12-01.json"],
    ),
}


@pytest.fixture(params=LAYOUTS, ids=str)
def layout_tree(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[SourceConfig, list[str], list[str]]:
    """A folder holding one layout's objects of 2018-11-01, its debris and other days' objects."""
    template, objects, debris, others = LAYOUTS[request.param]
    for key in [*objects, *debris, *others]:
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return source(template, str(tmp_path)), objects, debris


class TestFilterPerLayout:
    def test_debris_is_ignored_and_counted(self, layout_tree: tuple[SourceConfig, list[str], list[str]]) -> None:
        config, objects, debris = layout_tree
        listing = list_partition(FolderSource(config.uri), config, "2018-11-01")
        assert [o.key for o in listing.objects] == objects
        assert sorted(o.key for o in listing.ignored) == sorted(debris)

    def test_day_range(self, layout_tree: tuple[SourceConfig, list[str], list[str]]) -> None:
        config, _, _ = layout_tree
        assert data_range(FolderSource(config.uri), config) == ("2018-11-01", "2018-12-01")


class _Listing:
    """A store that answers list(prefix) from a list of keys."""

    uri = "s3://bucket/root"

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def list(self, prefix: str) -> list[SourceObject]:
        return [SourceObject(k, 1, "v") for k in self.keys if k.startswith(prefix)]


class TestDataRange:
    def test_lists_the_layouts_root_not_events_prefix(self) -> None:
        keys = ["raw/year=2018/month=11/day=30/a.json", "raw/year=2018/month=11/day=02/b.json", "log_data/x.json"]
        assert data_range(_Listing(keys), source("raw/year={{ year }}/month={{ month }}/day={{ day }}/")) == (
            "2018-11-02",
            "2018-11-30",
        )

    @pytest.mark.parametrize(
        "key",
        [
            "log_data/2018/12/2018-11-05-events.json",  # in another month's folder: no day's object
            "log_data/2018/11/2018-11-31-events.json",  # no calendar day
            "log_data/2018/11/2018-11-051-events.json",  # a longer name than the day's
            "log_data/2018/11/2018-11-05-events.json.bak",
            "log_data/2018/11/notes.txt",
        ],
    )
    def test_keys_of_no_day_are_not_days(self, key: str) -> None:
        assert data_range(_Listing([key]), source()) is None

    def test_hive_day_from_its_parts(self) -> None:
        config = source(HIVE)
        assert data_range(_Listing(["log_data/year=2019/month=02/day=28/x.json"]), config) == ("2019-02-28",) * 2
        assert data_range(_Listing(["log_data/year=2019/month=02/day=29/x.json"]), config) is None
