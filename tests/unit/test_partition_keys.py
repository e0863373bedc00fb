"""Manual-run partition key validation, the source's data range, and the asset-extra check summary."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import SourceConfig
from sparkify.partitions import (
    data_range,
    describe_range,
    is_manual_run,
    month_of,
    validate_month_key,
    validate_partition_key,
)
from sparkify.publish import check_summary, mapped_values
from sparkify.sources import SourceObject


@pytest.mark.parametrize("key", ["2018-11-05", "2020-02-29"])
def test_valid_keys(key: str) -> None:
    assert validate_partition_key(key) == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "no partition key"),
        ("", "no partition key"),
        ("None", "no partition key"),
        ("2018-11-3x", "expected a UTC day as YYYY-MM-DD"),
        ("2018/11/05", "expected a UTC day as YYYY-MM-DD"),
        ("2018-11-05 ", "expected a UTC day as YYYY-MM-DD"),
        ("2018-13-01", "is not a calendar day"),
        ("2019-02-29", "is not a calendar day"),
    ],
)
def test_invalid_keys_fail_without_retry(key: str | None, message: str) -> None:
    with pytest.raises(AirflowFailException, match=message):
        validate_partition_key(key)


@pytest.mark.parametrize("key", ["2018-11", "2019-01", "2018-12"])
def test_valid_month_keys(key: str) -> None:
    assert validate_month_key(key) == key


@pytest.mark.parametrize("key", [None, "", "None", "2018-13", "2018-00", "2018-11-05", "2018-1", "201811", " 2018-11"])
def test_invalid_month_keys_fail_without_retry(key: str | None) -> None:
    with pytest.raises(AirflowFailException, match=r"a rollup run's Partition Key is a month as YYYY-MM"):
        validate_month_key(key)


def test_month_of_a_day_is_its_rollup_key() -> None:
    assert month_of("2018-11-30") == "2018-11"
    assert month_of("2018-12-01") == "2018-12"
    with pytest.raises(AirflowFailException):
        month_of("2018-02-30")


class _Listing:
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.uri = "s3://bucket/root"

    def list(self, prefix: str) -> list[SourceObject]:
        return [SourceObject(k, 1, "v") for k in self.keys if k.startswith(prefix)]


def test_data_range_reads_days_from_object_keys() -> None:
    source = _Listing(
        ["log_data/2018/11/2018-11-30-events.json", "log_data/2018/11/2018-11-01-events.json", "log_data/README"]
    )
    config = SourceConfig("s3://bucket/root", "aws_default", "log_data", "song_data", 1.0)
    found = data_range(source, config)
    assert found == ("2018-11-01", "2018-11-30")
    assert describe_range(found, source.uri) == "the source s3://bucket/root holds 2018-11-01..2018-11-30"
    assert data_range(_Listing([]), config) is None
    assert "holds no log objects" in describe_range(None, "x")


def test_is_manual_run() -> None:
    assert is_manual_run({"dag_run": SimpleNamespace(run_type=SimpleNamespace(value="manual"))})
    assert is_manual_run({"dag_run": SimpleNamespace(run_type="manual")})
    assert not is_manual_run({"dag_run": SimpleNamespace(run_type="asset_triggered")})
    assert not is_manual_run({})


def test_check_summary() -> None:
    results = [
        {"name": "a", "status": "passed"},
        {"name": "b", "status": "warned"},
        {"name": "c", "status": "passed"},
        None,
    ]
    assert check_summary(results) == {"checks_passed": 2, "checks_warned": ["b"], "checks_total": 3}
    assert check_summary(None) == {"checks_passed": 0, "checks_warned": [], "checks_total": 0}


def test_mapped_values_read_a_lazy_xcom_sequence_in_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """What publish receives from a mapped upstream is Airflow's lazy sequence: one slice request, not
    a length request plus one per value (each is an Execution API call and a metadata-DB query)."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import XComSequenceSliceResult
    from airflow.sdk.execution_time.lazy_sequence import LazyXComSequence

    values = [{"name": "a", "status": "passed"}, {"name": "b", "status": "warned"}]
    sent: list[Any] = []

    class Comms:
        def send(self, msg: Any) -> Any:
            sent.append(msg)
            if type(msg).__name__ != "GetXComSequenceSlice":
                raise AssertionError(f"unexpected request {type(msg).__name__}")
            return XComSequenceSliceResult(root=values[msg.start : msg.stop : msg.step])

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    operator = SimpleNamespace(dag_id="d", task_id="check")
    lazy = LazyXComSequence(
        xcom_arg=SimpleNamespace(operator=operator, key="return_value"), ti=SimpleNamespace(run_id="r")
    )
    assert check_summary(lazy) == {"checks_passed": 1, "checks_warned": ["b"], "checks_total": 2}
    assert [type(msg).__name__ for msg in sent] == ["GetXComSequenceSlice"]
    assert mapped_values(None) == [] and mapped_values([1, 2]) == [1, 2]
