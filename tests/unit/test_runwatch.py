"""Run watching (scripts/sparkify_stack/runwatch.py) that scales with the backfill it watches."""

from __future__ import annotations

from sparkify_stack.runwatch import RUNS_LISTED_PER_SECOND, poll_period


def test_poll_period_keeps_the_listing_rate_flat() -> None:
    # a month polls at the floor; a year's snapshots (730 runs) come less often, same runs per second
    assert poll_period(30) == 5.0
    for partitions in (365, 1000, 3650):
        assert 2 * partitions / poll_period(partitions) <= RUNS_LISTED_PER_SECOND
    assert poll_period(365) < poll_period(3650)


class FakeClock:
    """time.monotonic and time.sleep for poll(): sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Snap:
    def __init__(self, line: str, done: bool) -> None:
        self.line, self.done = line, done

    def progress(self) -> str:
        return self.line

    def finished(self) -> bool:
        return self.done


def test_poll_prints_a_progress_line_when_it_changed_or_after_a_quiet_minute(monkeypatch) -> None:
    from sparkify_stack import runwatch

    clock = FakeClock()
    monkeypatch.setattr(runwatch, "time", clock)
    # One snapshot per 5 s: 3/30 for 100 s, then 10/30 for 20 s, then done.
    lines = ["3/30"] * 20 + ["10/30"] * 4
    snaps = iter([Snap(line, False) for line in lines] + [Snap("30/30", True)])
    said: list[tuple[float, str]] = []
    snap, timed_out = runwatch.poll(
        lambda: next(snaps), timeout=600, interval=15, say=lambda s: said.append((clock.now - 1000, s))
    )
    assert (snap.line, timed_out) == ("30/30", False)
    # 3/30 once, again only after 60 quiet seconds, then each change; never the same line twice in a row
    # within a minute (the old loop printed "3/30" seven times).
    assert said == [(0.0, "3/30"), (60.0, "3/30"), (100.0, "10/30"), (120.0, "30/30")]
