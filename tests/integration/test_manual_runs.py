"""A manual transform run of a partition that was never staged fails at once, with a clear message.

Also on a warehouse where nothing was ever staged (no staging table yet): that must be the same
non-retryable 'nothing staged' failure, not a retried UndefinedTable error.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.operators.load_fact import LoadFactOperator

MANUAL = {"dag_run": SimpleNamespace(run_type="manual")}


def test_manual_transform_needs_a_staged_partition(tmp_path, generator, make_project) -> None:
    data = tmp_path / "data"
    generator.generate(data, dt.date(2018, 11, 1), dt.date(2018, 11, 1), users=10, events_per_day=50,
                       songs=10, match_share=0.2, seed=5)  # fmt: skip
    project = make_project(data)
    path = str(project.config_path)

    with pytest.raises(AirflowFailException, match="2018-11-01 has nothing staged"):
        LoadFactOperator(task_id="load_fact", partition_key="2018-11-01", config_path=path).execute(MANUAL)
    with pytest.raises(AirflowFailException, match="invalid partition key '2018-11-1x'"):
        LoadFactOperator(task_id="load_fact", partition_key="2018-11-1x", config_path=path).execute(MANUAL)

    project.stage("2018-11-01")
    with pytest.raises(AirflowFailException, match="2018-11-02 has nothing staged"):
        LoadFactOperator(task_id="load_fact", partition_key="2018-11-02", config_path=path).execute(MANUAL)
    rows = LoadFactOperator(task_id="load_fact", partition_key="2018-11-01", config_path=path).execute(MANUAL)
    assert rows > 0
