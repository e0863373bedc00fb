"""Where a day's log objects are: ``source.events_partition_prefix``, a Jinja template of the day's key prefix.

Why a template: sources file a day differently (the Udacity bucket's
``log_data/2018/11/2018-11-05-events.json``, Hive-style ``log_data/year=2018/month=11/day=05/``,
flat ``events/2018-11-05.json``); a template in config.json covers each of them without code.
Everything that needs a day's prefix (the sensor, staging, Redshift's COPY, the range of days a
source holds) goes through :func:`layout_of`, so the layout is declared in one place, and which
keys are a day's objects is decided by one filter, :func:`is_event_object`.

The template is rendered in Jinja's sandbox with StrictUndefined and validated when config.json
is loaded (:func:`layout_problems`): it must render, stay relative, depend on the whole day (no
day's objects may also be another day's), and let the day be read back from an object's key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from sparkify.config_model import DEFS, SourceConfig

#: What a day variable looks like in a key, by variable; partition_key is ds under another name.
DAY_VARIABLES: dict[str, str] = {
    "ds": r"\d{4}-\d{2}-\d{2}",
    "partition_key": r"\d{4}-\d{2}-\d{2}",
    "year": r"\d{4}",
    "month": r"\d{2}",
    "day": r"\d{2}",
}
#: Every variable a template may use: the day's, and source.events_prefix without its slashes.
VARIABLES = (*DAY_VARIABLES, "events_prefix")
#: Days rendered to validate a template. Why these: neighbouring days, months and years (the prefix
#: must change with each part of the date), and 01/10/11 (2018-11-1 is a string prefix of 2018-11-10).
SAMPLE_DAYS = ("2018-11-01", "2018-11-05", "2018-11-06", "2018-11-10", "2018-12-05", "2019-11-05", "2018-01-11")
#: Stand-ins rendered in place of the day variables to find where the template puts them.
_SENTINEL = re.compile("__sparkify_(" + "|".join(DAY_VARIABLES) + ")__")
_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE_PREFIX = re.compile(DEFS["prefix"]["pattern"])
_ENVIRONMENT = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # an object key, not HTML
    keep_trailing_newline=False,
)


def is_event_object(key: str, day_prefix: str) -> bool:
    """Whether key is one of the day's log objects: ``<day prefix><name>.json``, no sub-folder.

    Why: staging takes every object under the day's prefix, and real prefixes collect debris
    (``2018-11-01-events.json.bak``, ``.tmp`` uploads, ``_SUCCESS`` markers, sub-folders) whose
    events would be staged twice. Only names ending in .json directly after the prefix count; when
    the prefix does not end a folder, the name must not go on with a digit (under the prefix
    ``…/2018-11-1`` lie ``…/2018-11-10-events.json``'s objects, which are another day's).
    """
    if not key.startswith(day_prefix):
        return False
    rest = key[len(day_prefix) :]
    return rest.endswith(".json") and "/" not in rest and (day_prefix.endswith("/") or not rest[0].isdigit())


def day_values(partition_key: str) -> dict[str, str]:
    """The template's day variables for a key YYYY-MM-DD; ValueError for anything else."""
    if not _KEY.fullmatch(partition_key):
        raise ValueError(f"invalid partition key {partition_key!r}: expected YYYY-MM-DD")
    dt.date.fromisoformat(partition_key)  # a calendar day (ValueError otherwise)
    year, month, day = partition_key.split("-")
    return {"ds": partition_key, "partition_key": partition_key, "year": year, "month": month, "day": day}


@dataclass(frozen=True)
class PartitionLayout:
    """A compiled events_partition_prefix: a day's prefix, and the day of an object's key."""

    template: jinja2.Template
    events_prefix: str
    #: Matches the start of a key rendered from the template, capturing the day variables.
    day_pattern: re.Pattern[str]
    #: The folder every day's prefix lies under (the template's text before its first day variable).
    root: str

    def prefix(self, partition_key: str) -> str:
        """The key prefix of one day's log objects."""
        return self.template.render(**day_values(partition_key), events_prefix=self.events_prefix)

    def day_of(self, key: str) -> str | None:
        """The day whose log objects include key (it passes that day's is_event_object), else None."""
        match = self.day_pattern.match(key)
        day = _day_from_groups(match.groupdict()) if match else None
        return day if day is not None and is_event_object(key, self.prefix(day)) else None


def layout_of(source: SourceConfig) -> PartitionLayout:
    """The layout of a source's events (compiled once per process and template)."""
    return partition_layout(source.events_partition_prefix, source.events_prefix)


@lru_cache(maxsize=16)
def partition_layout(template: str, events_prefix: str) -> PartitionLayout:
    """Compile and validate a template; ValueError naming every problem when it is not usable."""
    problems = layout_problems(template, events_prefix)
    if problems:
        raise ValueError(f"invalid events_partition_prefix {template!r}: " + "; ".join(problems))
    return _compile(template, events_prefix)


def layout_problems(template: str, events_prefix: str) -> list[str]:
    """Why a template cannot be a layout (empty when it can): config.json's validation of it."""
    try:
        compiled = _ENVIRONMENT.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        return [f"{template!r} is not a valid Jinja template: {exc.message} (line {exc.lineno})"]
    layout = _compile(template, events_prefix, compiled)
    try:
        prefixes = {day: layout.prefix(day) for day in SAMPLE_DAYS}
        _render_day_variables(compiled, layout.events_prefix)
    except Exception as exc:  # the sandbox and filters raise many kinds; each is a problem to report
        return [f"{template!r} cannot be rendered: {exc} (variables: {', '.join(VARIABLES)})"]
    problems = _relative_problems(prefixes) or _overlap_problems(prefixes)
    return problems or _read_back_problems(layout, prefixes)


def _relative_problems(prefixes: Mapping[str, str]) -> list[str]:
    """A rendered prefix must be a relative key prefix, like source.events_prefix."""
    return [
        f"renders {prefix!r} for {day}: not a relative key prefix (no leading '/', no '..', "
        "only letters, digits and _ . = / -)"
        for day, prefix in prefixes.items()
        if not _RELATIVE_PREFIX.fullmatch(prefix)
    ][:1]


def _overlap_problems(prefixes: Mapping[str, str]) -> list[str]:
    """No day's objects may also be another day's: different days, different (non-overlapping) prefixes."""
    for (day, prefix), (other, other_prefix) in permutations(prefixes.items(), 2):
        if prefix == other_prefix:
            return [
                f"renders the same prefix {prefix!r} for {day} and {other}: it must contain the day "
                "({{ ds }}, or {{ year }}, {{ month }} and {{ day }})"
            ]
        probe = other_prefix + ("events.json" if other_prefix.endswith("/") else "-events.json")
        if is_event_object(probe, prefix):
            return [f"{other}'s object {probe!r} would also be staged as {day}'s (prefix {prefix!r})"]
    return []


def _read_back_problems(layout: PartitionLayout, prefixes: Mapping[str, str]) -> list[str]:
    """The day must be readable from a key (the range of days a source holds is found that way)."""
    for day, prefix in prefixes.items():
        match = layout.day_pattern.fullmatch(prefix)
        if match is None or _day_from_groups(match.groupdict()) != day:
            return [
                f"the day cannot be read back from {prefix!r}: write it as {{{{ ds }}}} (or {{{{ year }}}}, "
                "{{ month }} and {{ day }}) without filters"
            ]
    return []


def _compile(template: str, events_prefix: str, compiled: jinja2.Template | None = None) -> PartitionLayout:
    """The layout of a template, without validating it (layout_problems does)."""
    compiled = compiled or _ENVIRONMENT.from_string(template)
    events_prefix = events_prefix.strip("/")
    try:
        rendered = _render_day_variables(compiled, events_prefix)
    except Exception:  # reported by layout_problems; such a layout never reads a day back
        rendered = ""
    first = _SENTINEL.search(rendered)
    head = rendered[: first.start()] if first else ""
    return PartitionLayout(compiled, events_prefix, _day_pattern(rendered), head[: head.rfind("/") + 1])


def _render_day_variables(template: jinja2.Template, events_prefix: str) -> str:
    """The template with a sentinel in place of each day variable."""
    return template.render({name: f"__sparkify_{name}__" for name in DAY_VARIABLES}, events_prefix=events_prefix)


def _day_pattern(rendered: str) -> re.Pattern[str]:
    """A regex of rendered text: literal parts escaped, each day variable a group (repeats must be equal)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for sentinel in _SENTINEL.finditer(rendered):
        name = "ds" if sentinel.group(1) == "partition_key" else sentinel.group(1)
        parts.append(re.escape(rendered[position : sentinel.start()]))
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{DAY_VARIABLES[name]})")
        seen.add(name)
        position = sentinel.end()
    parts.append(re.escape(rendered[position:]))
    return re.compile("".join(parts))


def _day_from_groups(groups: Mapping[str, str | None]) -> str | None:
    """The day YYYY-MM-DD the captured variables name, or None when they name no calendar day."""
    day = groups.get("ds")
    if day is None and all(groups.get(name) for name in ("year", "month", "day")):
        day = f"{groups['year']}-{groups['month']}-{groups['day']}"
    if day is None:
        return None
    try:
        day_values(day)
    except ValueError:
        return None
    return day
