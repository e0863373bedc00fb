"""The shipped config.json's checks: all pass on good data, and the right ones fail on bad data.

Good data: the generated sample and the original Sparkify sample (vendored in
tests/fixtures/sparkify). Bad data: a staged partition with an unknown level (caught by the staging gate), and a
loaded warehouse with a corrupted dimension, a missing time row and a lost songplay (caught by
the transform checks, each by exactly the check meant for it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import CheckConfig
from sparkify.operators.check import DataQualityCheckOperator
from tests.integration.conftest import Project, days


def run_checks(project: Project, partition_key: str, checks: tuple[CheckConfig, ...]) -> dict[str, str]:
    """Run checks like the mapped task does; return check name -> status, never raising."""
    statuses = {}
    for kwargs in project.config.check_kwargs(checks):
        operator = DataQualityCheckOperator(
            task_id="check", partition_key=partition_key, config_path=str(project.config_path), **kwargs
        )
        try:
            statuses[kwargs["name"]] = operator.execute({})["status"]
        except AirflowFailException:
            statuses[kwargs["name"]] = "failed"
    return statuses


def assert_every_check_passed(project: Project, partitions: int) -> None:
    """Every day's check ran once per partition, every rollup check once (the month), all passed."""
    config = project.config
    monthly = [c.name for c in config.rollup_checks()]
    daily = [c.name for c in config.checks if c.name not in monthly]
    rows = project.query("SELECT check_name, status FROM dq_results")
    assert len(rows) == len(daily) * partitions + len(monthly)
    assert Counter(name for name, _ in rows) == {**{name: partitions for name in daily}, **dict.fromkeys(monthly, 1)}
    assert {status for _, status in rows} == {"passed"}, [r for r in rows if r[1] != "passed"]


@pytest.fixture(scope="module")
def sample(generator, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dq-generated")
    counts = generator.generate(
        out, dt.date(2018, 11, 1), dt.date(2018, 11, 4), users=40, events_per_day=300, songs=40,
        match_share=0.2, seed=11,
    )
    # 2018-11-04 is the bad partition: some events carry a level the product does not have.
    path = out / "log_data" / "2018" / "11" / "2018-11-04-events.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"level":"paid"', '"level":"premium"', 5))
    return out, counts


def test_default_checks_pass_on_the_generated_sample(make_project, sample) -> None:
    project = make_project(sample[0])
    project.run(days(1, 3))  # runs every configured check after each partition; raises on failure
    project.rollup("2018-11")  # then the month (a partial one, forced), with the rollup checks
    assert_every_check_passed(project, partitions=3)


def test_default_staging_gate_fails_on_a_bad_partition(make_project, sample) -> None:
    project = make_project(sample[0])
    project.stage("2018-11-04")
    statuses = run_checks(project, "2018-11-04", project.config.staging_checks())
    assert {name for name, status in statuses.items() if status != "passed"} == {"staging_events_level_accepted"}
    observed, samples = project.query(
        "SELECT observed, sample_rows FROM dq_results WHERE check_name = 'staging_events_level_accepted'"
    )[0]
    assert observed == 5
    assert samples.count('"level":"premium"') == 5


def test_default_transform_checks_fail_on_a_corrupted_warehouse(make_project, sample) -> None:
    project = make_project(sample[0])
    project.run(days(1, 3))
    project.query("DELETE FROM dq_results RETURNING 1")
    project.query("UPDATE users SET level = 'gold' WHERE user_id = (SELECT MIN(user_id) FROM users) RETURNING 1")
    project.query(
        "DELETE FROM time WHERE start_time = (SELECT MIN(start_time) FROM songplays"
        " WHERE partition_key = '2018-11-02') RETURNING 1"
    )
    project.query(
        "DELETE FROM songplays WHERE songplay_id = (SELECT MIN(songplay_id) FROM songplays"
        " WHERE partition_key = '2018-11-03') RETURNING 1"
    )
    failing = {}
    for key in ("2018-11-02", "2018-11-03"):
        statuses = run_checks(project, key, project.config.transform_checks())
        failing[key] = {name for name, status in statuses.items() if status != "passed"}
    # users is checked as a whole table, so its failure shows in both partitions' runs.
    assert failing == {
        "2018-11-02": {"users_level_accepted", "songplays_time_exists"},
        "2018-11-03": {"users_level_accepted", "songplays_match_staged_events"},
    }
    observed, expected = project.query(
        "SELECT observed, expected FROM dq_results WHERE check_name = 'songplays_match_staged_events'"
        " AND partition_key = '2018-11-03'"
    )[0]
    assert observed == expected - 1


def test_default_checks_pass_on_the_reference_sample(make_project, shared_sample: Path) -> None:
    project = make_project(shared_sample)
    project.run(days(1, 30))
    project.rollup("2018-11")  # the whole month: what sparkify_rollups runs after the last day
    assert_every_check_passed(project, partitions=30)
