"""WarehouseOperator: the connection a task kept across its transactions is closed when it ends."""

from __future__ import annotations

from sparkify.operators.base import WarehouseOperator


class FakeWarehouse:
    closed = 0

    def close(self) -> None:
        self.closed += 1


def test_post_execute_closes_the_warehouse_the_task_opened() -> None:
    operator = WarehouseOperator(task_id="t")
    operator.post_execute({}, None)  # never resolved: nothing to open or close
    assert "warehouse" not in operator.__dict__
    warehouse = FakeWarehouse()
    operator.__dict__["warehouse"] = warehouse  # what the cached property holds after execute()
    operator.post_execute({}, None)
    assert warehouse.closed == 1
