"""The measurement rows both benchmarks write (section,name,value,unit,detail) and read back.

bench/bench.py (measurements.csv) and bench/airflow_overhead.py (airflow.csv) share this layout,
so their reports (bench/report_bench.py, bench/report_airflow.py) are rendered from the CSV alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELDS = ("section", "name", "value", "unit", "detail")


@dataclass
class Measurements:
    """Every measurement of a run, in order, as CSV rows.

    missing: what get() returns for a figure that was not measured; None raises KeyError
    (bench.py: a report must not show a figure it never took; airflow_overhead.py passes NaN so
    a configuration without a figure renders as "nan" in its table).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: float | None = None

    def add(self, section: str, name: str, value: float, unit: str, detail: str = "") -> float:
        self.rows.append({"section": section, "name": name, "value": value, "unit": unit, "detail": detail})
        print(f"[{section}] {name} = {value:,.4g} {unit} {detail}", flush=True)
        return value

    def get(self, section: str, name: str) -> float:
        for row in self.rows:
            if row["section"] == section and row["name"] == name:
                return row["value"]
        if self.missing is None:
            raise KeyError(f"no measurement {section}/{name}")
        return self.missing

    def write_csv(self, path: Path) -> None:
        write_rows(path, self.rows, FIELDS)

    def read_csv(self, path: Path) -> Measurements:
        """Append the rows of a CSV written by write_csv (values back to float); returns self."""
        with path.open() as handle:
            self.rows.extend({**row, "value": float(row["value"])} for row in csv.DictReader(handle))
        return self


def write_rows(path: Path, rows: list[dict[str, Any]], fieldnames: tuple[str, ...] | None = None) -> None:
    """A CSV of dict rows; the columns are the first row's keys unless given."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fieldnames or rows[0]))
        writer.writeheader()
        writer.writerows(rows)
