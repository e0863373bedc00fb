"""Adding a table (a dimension or a rollup) is a config entry plus SQL files, no Python: done for real in a copy.

The walkthrough in docs/configuration.md ("Adding a dimension") adds the `user_levels` history dimension
from docs/examples/user_levels/. This test does exactly that in a temporary copy of dags/,
plugins/, sql/ and config.json, then, in a fresh interpreter whose `sparkify` package and
DAG folder are the copy's:

1. parses the DagBag: no import errors, and `load_dimension` / `check` of sparkify_transform now
   expand to the new table and its checks (the mapped task indexes the UI shows);
2. stages and transforms three partitions against the real test PostgreSQL, in order in one
   schema and in reverse order (one partition twice) in another: the table loads, every check
   in the copy's config passes (the check operator raises on a failure), the level history
   holds real free<->paid changes, and both schemas hold byte-identical user_levels.

"Adding a rollup" does the same with docs/examples/level_plays_monthly/: `load_rollup` / `check`
of sparkify_rollups expand to it (and the transform's checks do not), the month is rolled up
after the days in each schema, its checks pass, it equals a count over the fact, and both
schemas hold the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from sparkify.config import REPO_ROOT

pytestmark = pytest.mark.integration
EXAMPLE = REPO_ROOT / "docs" / "examples" / "user_levels"
ROLLUP_EXAMPLE = REPO_ROOT / "docs" / "examples" / "level_plays_monthly"
KEYS = ["2018-11-01", "2018-11-02", "2018-11-03"]

# Runs inside the copy (argv: project root, source folder, schema A, schema B); prints JSON.
SCRIPT = r'''
import json, sys
root, source, schema_a, schema_b = sys.argv[1:5]
import sparkify
assert sparkify.__file__.startswith(root), f"sparkify imported from {sparkify.__file__}, not the copy"
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=root + "/dags")
dag = bag.dags.get("sparkify_transform")
rollup_dag = bag.dags.get("sparkify_rollups")
out = {
    "import_errors": {k: str(v)[:2000] for k, v in bag.import_errors.items()},
    "dimensions": [d["name"] for d in dag.get_task("load_dimension").expand_input.value] if dag else [],
    "checks": [c["name"] for c in dag.get_task("check").expand_input.value] if dag else [],
    "rollups": [r["name"] for r in rollup_dag.get_task("load_rollup").expand_input.value] if rollup_dag else [],
    "rollup_checks": [c["name"] for c in rollup_dag.get_task("check").expand_input.value] if rollup_dag else [],
}

from sparkify.config import load_config
from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.ensure_schema import EnsureSchemaOperator
from sparkify.operators.load_dimension import LoadDimensionOperator
from sparkify.operators.load_fact import LoadFactOperator
from sparkify.operators.load_rollup import LoadRollupOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.operators.stage_songs import StageSongsOperator

doc = json.load(open(root + "/config.json"))
doc["source"]["uri"] = source

def run(schema, keys):
    doc["warehouse"]["schema"] = schema
    path = f"{root}/config-{schema}.json"
    json.dump(doc, open(path, "w"))
    config = load_config(path)
    results = []
    for key in keys:
        EnsureSchemaOperator(task_id="ensure_schema", config_path=path).execute({})
        StageSongsOperator(task_id="stage_songs", config_path=path).execute({})
        StageEventsOperator(task_id="stage_events", partition_key=key, config_path=path).execute({})
        LoadFactOperator(task_id="load_fact", partition_key=key, config_path=path).execute({})
        for kwargs in config.dimension_kwargs():
            LoadDimensionOperator(task_id="dim", partition_key=key, config_path=path, **kwargs).execute({})
        day_checks = [c for c in config.checks if c not in config.rollup_checks()]
        for kwargs in config.check_kwargs(day_checks):
            check = DataQualityCheckOperator(task_id="check", partition_key=key, config_path=path, **kwargs)
            result = check.execute({})
            results.append((key, result["name"], result["status"]))
    # Then each month the keys touch is rolled up, as sparkify_rollups does (here forced: partial).
    for month in sorted({key[:7] for key in keys}):
        for kwargs in config.rollup_kwargs():
            LoadRollupOperator(task_id="load_rollup", partition_key=month, config_path=path, **kwargs).execute({})
        for kwargs in config.check_kwargs(config.rollup_checks()):
            check = DataQualityCheckOperator(task_id="check", partition_key=month, config_path=path, **kwargs)
            result = check.execute({})
            results.append((month, result["name"], result["status"]))
    return results

out["checks_a"] = run(schema_a, sys.argv[5].split(","))
out["checks_b"] = run(schema_b, sys.argv[6].split(","))
print("RESULT " + json.dumps(out))
'''


def _copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("dags", "plugins", "sql"):
        shutil.copytree(REPO_ROOT / folder, dest / folder, ignore=ignore)
    shutil.copy(REPO_ROOT / "config.json", dest / "config.json")
    return dest


def _add_example(project: Path, example: Path, section: str, folder: str) -> dict:
    """The walkthrough: two SQL files and a config entry (plus its checks). No Python."""
    entry = json.loads((example / "config.json").read_text())
    (name,) = [table["name"] for table in entry[section]]
    shutil.copy(example / "ddl.sql", project / "sql" / "ddl" / f"{name}.sql")
    shutil.copy(example / "model.sql", project / "sql" / folder / f"{name}.sql")
    config = json.loads((project / "config.json").read_text())
    config[section].extend(entry[section])
    config["checks"].extend(entry["checks"])
    (project / "config.json").write_text(json.dumps(config, indent=2))
    return entry


def _run_in_copy(tmp_path: Path, generator: ModuleType, make_project, add: Callable[[Path], dict]) -> tuple:
    """Copy the project, add the example, load KEYS into schema A in order and into schema B in
    reverse with a repeat (then roll the month up in each); returns (result, before, entry, schemas)."""
    make_project(tmp_path)  # sets AIRFLOW_CONN_SPARKIFY_WAREHOUSE to the test database
    data = tmp_path / "data"
    generator.generate(
        data, dt.date(2018, 11, 1), dt.date(2018, 11, 3), users=30, events_per_day=250, songs=30,
        match_share=0.2, seed=11,
    )  # fmt: skip
    project = _copy_project(tmp_path / "project")
    before = json.loads((project / "config.json").read_text())
    entry = add(project)
    (project / "run.py").write_text(SCRIPT)

    schemas = (f"it_add_{uuid.uuid4().hex[:8]}", f"it_add_{uuid.uuid4().hex[:8]}")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project / "plugins"), str(project)]),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(project / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SPARKIFY_CONFIG": str(project / "config.json"),
    }
    env.pop("SPARKIFY_SOURCE", None)
    order_b = [KEYS[2], KEYS[1], KEYS[0], KEYS[1]]
    done = subprocess.run(
        [sys.executable, str(project / "run.py"), str(project), str(data), *schemas,
         ",".join(KEYS), ",".join(order_b)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"run in the copy failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["import_errors"] == {}
    new_checks = [c["name"] for c in entry["checks"]]
    for key, name, status in result["checks_a"] + result["checks_b"]:
        assert status in ("passed", "warned"), (key, name, status)
    assert {n for _, n, s in result["checks_a"] if s == "passed"} >= set(new_checks)
    return result, before, entry, schemas


@pytest.fixture
def drop_schemas(warehouse_url: str) -> Iterator[list[str]]:
    schemas: list[str] = []
    yield schemas
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_adding_user_levels_via_config_loads_and_passes_checks(
    tmp_path: Path, generator: ModuleType, warehouse_url: str, make_project, drop_schemas: list[str]
) -> None:
    def add(project: Path) -> dict:
        return _add_example(project, EXAMPLE, "dimensions", "marts")

    result, before, entry, (schema_a, schema_b) = _run_in_copy(tmp_path, generator, make_project, add)
    drop_schemas.extend([schema_a, schema_b])
    assert "user_levels" not in {d["name"] for d in before["dimensions"]}, "already shipped: nothing to add"
    assert result["dimensions"] == [*[d["name"] for d in before["dimensions"]], "user_levels"]
    assert {c["name"] for c in entry["checks"]} <= set(result["checks"])

    with psycopg.connect(warehouse_url) as conn:

        def one(schema: str, sql: str) -> tuple:
            return conn.execute(sql.replace("{s}", f'"{schema}"')).fetchone()

        rows, changes, users = one(
            schema_a,
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE level <> previous_level), COUNT(DISTINCT user_id)"
            " FROM {s}.user_levels",
        )
        assert rows > 0 and changes > 0, (rows, changes)
        assert users == one(schema_a, "SELECT COUNT(*) FROM {s}.users")[0]
        # A user's latest period has the level the users dimension keeps (latest event wins).
        mismatched = one(
            schema_a,
            "SELECT COUNT(*) FROM {s}.users u JOIN (SELECT DISTINCT ON (user_id) user_id, level"
            " FROM {s}.user_levels ORDER BY user_id, valid_from DESC) l USING (user_id)"
            " WHERE l.level <> u.level",
        )[0]
        assert mismatched == 0
        checksum = "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {s}.user_levels t"
        assert one(schema_a, checksum) == one(schema_b, checksum), "load order changed user_levels"


def test_adding_a_rollup_via_config_expands_the_rollup_dag_loads_and_passes_checks(
    tmp_path: Path, generator: ModuleType, warehouse_url: str, make_project, drop_schemas: list[str]
) -> None:
    """docs/configuration.md "Adding a rollup": docs/examples/level_plays_monthly in a copy."""

    def add(project: Path) -> dict:
        return _add_example(project, ROLLUP_EXAMPLE, "rollups", "rollups")

    result, before, entry, (schema_a, schema_b) = _run_in_copy(tmp_path, generator, make_project, add)
    drop_schemas.extend([schema_a, schema_b])
    assert result["rollups"] == [*[r["name"] for r in before["rollups"]], "level_plays_monthly"]
    assert {c["name"] for c in entry["checks"]} <= set(result["rollup_checks"])
    assert not {c["name"] for c in entry["checks"]} & set(result["checks"])  # not in the transform
    assert {key for key, name, _ in result["checks_a"] if name in result["rollup_checks"]} == {"2018-11"}

    with psycopg.connect(warehouse_url) as conn:

        def rows(schema: str, sql: str) -> list[tuple]:
            return conn.execute(sql.replace("{s}", f'"{schema}"')).fetchall()

        loaded = rows(schema_a, "SELECT level, plays, listeners FROM {s}.level_plays_monthly ORDER BY level")
        expected = rows(
            schema_a,
            "SELECT level, COUNT(DISTINCT songplay_id), COUNT(DISTINCT user_id) FROM {s}.songplays"
            " WHERE level IS NOT NULL GROUP BY level ORDER BY level",
        )
        assert loaded == expected and {level for level, *_ in loaded} == {"free", "paid"}
        ordered = "SELECT * FROM {s}.level_plays_monthly ORDER BY month, level"
        assert rows(schema_a, ordered) == rows(schema_b, ordered), "load order changed level_plays_monthly"
