"""Run watching (scripts/sparkify_stack/runwatch.py) that scales with the backfill it watches."""

from __future__ import annotations

from sparkify_stack.runwatch import RUNS_LISTED_PER_SECOND, poll_period


def test_poll_period_keeps_the_listing_rate_flat() -> None:
    # a month polls at the floor; a year's snapshots (730 runs) come less often, same runs per second
    assert poll_period(30) == 5.0
    for partitions in (365, 1000, 3650):
        assert 2 * partitions / poll_period(partitions) <= RUNS_LISTED_PER_SECOND
    assert poll_period(365) < poll_period(3650)
