"""The late-data sweep: which recently staged days have log objects that changed since they were staged.

Why: a day is staged once, by its ``sparkify_staging`` run. When its object is replaced later (a
corrected file) or another object lands under its prefix (a late upload), or one is deleted,
nothing would notice until someone re-stages the day by hand. Event staging records the objects
and versions it read in ``event_manifest``, in the transaction that replaces the day; the sweep
(``sparkify_sweep``) reads the manifest of the days in its lookback window, lists those days'
prefixes, and re-stages exactly the days whose objects were added, replaced or removed.

The comparison (:func:`detect_changes`) and the window (:func:`sweep_window`) are pure functions;
:func:`find_changes` does the reading: two small queries and one LIST per staged day of the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sparkify.partitions import DAY_KEY_FORMAT
from sparkify.sources import Source, list_partition

if TYPE_CHECKING:
    from sparkify.config import Config
    from sparkify.warehouse import Warehouse

#: source_key (and version) of the row that marks a day staged from no object at all
#: (source.allow_empty_partitions): the day is known to be staged, so a later object is "added".
EMPTY_DAY_KEY = ""
ADDED, REPLACED, REMOVED = "added", "replaced", "removed"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One object a day was staged from: its stored key, version, and what staging made of it.

    rows_loaded/rejected are None where the warehouse COPYs the objects itself (Redshift) and
    only the day's totals are known.
    """

    source_key: str
    version: str
    rows_loaded: int | None = None
    rejected: int | None = None

    def params(self, partition_key: str) -> dict[str, Any]:
        """Bind parameters of sql/staging/event_manifest_record.sql."""
        return {
            "partition_key": partition_key,
            "source_key": self.source_key,
            "version": self.version,
            "rows_loaded": self.rows_loaded,
            "rejected": self.rejected,
        }


def manifest_rows(entries: Iterable[ManifestEntry]) -> list[ManifestEntry]:
    """What a day's manifest holds: its objects, or the empty-day marker when it had none."""
    return list(entries) or [ManifestEntry(EMPTY_DAY_KEY, EMPTY_DAY_KEY, 0, 0)]


@dataclass(frozen=True, slots=True)
class PartitionChange:
    """A staged day whose objects differ from the ones it was staged from, and how (stored keys)."""

    partition_key: str
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: How many of the day's objects are listed now (0: every object is gone).
    objects_now: int = 0

    @property
    def reasons(self) -> list[str]:
        """added / replaced / removed, those that apply, in that order."""
        return [name for name, keys in self.summary().items() if keys]

    def summary(self) -> dict[str, list[str]]:
        """The changed keys by reason (for the log, the XCom and the asset events' extras)."""
        found = {ADDED: self.added, REPLACED: self.replaced, REMOVED: self.removed}
        return {name: list(keys) for name, keys in found.items() if keys}

    def stageable(self, allow_empty_partitions: bool) -> bool:
        """Whether re-staging can succeed: a day left without objects stages only where empty days are allowed."""
        return self.objects_now > 0 or allow_empty_partitions


def detect_changes(
    staged: Mapping[str, Mapping[str, str]], listed: Mapping[str, Mapping[str, str]]
) -> list[PartitionChange]:
    """The staged days whose objects were added, replaced or removed since they were staged, oldest first.

    staged: day -> {stored key: version} from event_manifest (a day staged from no object holds
    only the EMPTY_DAY_KEY marker); listed: day -> {stored key: version} of the day's log objects
    now (a day absent from it has none). Only the days in ``staged`` are compared: a day never
    staged is its staging run's business, not the sweep's. A version is compared as an opaque
    string (ETag on S3, size + mtime in a folder): any difference is a replacement.
    """
    changes = []
    for day in sorted(staged):
        before = {key: version for key, version in staged[day].items() if key != EMPTY_DAY_KEY}
        now = listed.get(day, {})
        added = tuple(sorted(now.keys() - before.keys()))
        removed = tuple(sorted(before.keys() - now.keys()))
        replaced = tuple(sorted(key for key in now.keys() & before.keys() if now[key] != before[key]))
        if added or replaced or removed:
            changes.append(PartitionChange(day, added, replaced, removed, len(now)))
    return changes


def sweep_window(newest_staged_day: str | None, lookback_days: int) -> tuple[str, str] | None:
    """The first and last day the sweep compares: lookback_days calendar days ending at the newest staged day.

    Why the newest staged day and not today: on a live pipeline it is yesterday anyway, and a
    history loaded by a backfill (or a pipeline whose staging stopped) still has its latest days
    swept. Days staged for a date after today are left out by the query that finds the newest.
    None when nothing is staged.
    """
    if newest_staged_day is None:
        return None
    last = dt.datetime.strptime(newest_staged_day, DAY_KEY_FORMAT).date()
    first = last - dt.timedelta(days=lookback_days - 1)
    return first.strftime(DAY_KEY_FORMAT), newest_staged_day


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep compared and found."""

    window: tuple[str, str] | None
    days_compared: tuple[str, ...]
    objects_listed: int
    changes: tuple[PartitionChange, ...]
    allow_empty_partitions: bool

    @property
    def to_stage(self) -> list[PartitionChange]:
        """The changed days that re-staging can load."""
        return [c for c in self.changes if c.stageable(self.allow_empty_partitions)]

    @property
    def left_alone(self) -> list[PartitionChange]:
        """Changed days left without objects where empty days are not allowed: staging would fail, so they are
        reported, not re-staged (their staged rows stay; see docs/operations.md)."""
        return [c for c in self.changes if not c.stageable(self.allow_empty_partitions)]


def find_changes(config: Config, warehouse: Warehouse, source: Source, today: dt.date) -> SweepResult:
    """Compare the manifest of the staged days in the lookback window with a listing of their prefixes.

    Reads only: the newest staged day, the window's manifest rows, one LIST per staged day (the
    day's prefix from source.events_partition_prefix, filtered like staging filters it).
    """
    newest = warehouse.newest_staged_day(today.strftime(DAY_KEY_FORMAT))
    window = sweep_window(newest, config.source.sweep.lookback_days)
    staged = warehouse.staged_objects(*window) if window else {}
    listed: dict[str, dict[str, str]] = {}
    for day in sorted(staged):
        listing = list_partition(source, config.source, day)
        listed[day] = {obj.stored_key: obj.version for obj in listing.objects}
    return SweepResult(
        window=window,
        days_compared=tuple(sorted(staged)),
        objects_listed=sum(len(objects) for objects in listed.values()),
        changes=tuple(detect_changes(staged, listed)),
        allow_empty_partitions=config.source.allow_empty_partitions,
    )


def restage_check_kwargs(config: Config, partition_keys: Sequence[str]) -> list[dict[str, Any]]:
    """The staging checks of each re-staged day, for ``expand_kwargs``: what a staging run of that day runs."""
    return [
        {**kwargs, "partition_key": key}
        for key in partition_keys
        for kwargs in config.check_kwargs(config.staging_checks())
    ]
