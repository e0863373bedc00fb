"""Property: any subset of partitions, loaded in any order, repeated, with up to the DAGs'
max_active_runs in parallel, leaves every table identical to one clean in-order load of that subset.

Hypothesis draws the schedule; each example is a fresh schema on the real PostgreSQL, so the
example count stays small. A failing schedule is shrunk to a minimal one and printed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import days

DAYS = days(1, 4)
MAX_ACTIVE_RUNS = 4  # both DAGs' max_active_runs: the most partition runs that can overlap


def contract_checksums(project) -> dict[str, str]:
    """Checksums of the tables under the idempotency contract (dq_results is an append-only audit log)."""
    sums = project.checksums()
    sums.pop("dq_results", None)
    return sums


@pytest.fixture(scope="module")
def sample(generator, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("property")
    generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 4), 30, 150, 30, 0.3, 23)
    return out


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[str], int]:
    """A non-empty subset of the days, shuffled, with some partitions repeated, and a concurrency."""
    subset = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=len(DAYS), unique=True))
    repeats = draw(st.lists(st.sampled_from(subset), max_size=3))
    order = draw(st.permutations(subset + repeats))
    return list(order), draw(st.sampled_from([1, 2, MAX_ACTIVE_RUNS]))


@settings(
    max_examples=6,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
def test_any_order_repeats_and_concurrency_match_a_clean_in_order_load(make_project, sample, schedule) -> None:
    order, concurrency = schedule
    reference_keys = sorted(set(order))
    cache = test_any_order_repeats_and_concurrency_match_a_clean_in_order_load.references
    if tuple(reference_keys) not in cache:
        clean = make_project(sample)
        clean.run(reference_keys)
        cache[tuple(reference_keys)] = contract_checksums(clean)

    project = make_project(sample)
    project.run(order, concurrency=concurrency)
    assert contract_checksums(project) == cache[tuple(reference_keys)], (order, concurrency)


# Clean loads per subset, shared across examples (the data and the code do not change between them).
test_any_order_repeats_and_concurrency_match_a_clean_in_order_load.references = {}
