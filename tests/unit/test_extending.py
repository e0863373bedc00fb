"""Extending the pipeline is a one-place change (docs/extending.md): each test copies the project's
plugins/ and sql/ to a temporary tree, makes exactly the change the docs describe there, and
checks in a fresh interpreter that everything downstream picked it up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from sparkify.config import REPO_ROOT

MAX_LENGTH_MODULE = '''
"""max_length: values of ``column`` longer than ``max`` characters."""

from __future__ import annotations

from sparkify.checks.base import CheckType, TemplateInput


class MaxLength(CheckType):
    """Failing rows: a value longer than ``max`` characters."""

    name = "max_length"
    template = "quality/max_length.sql"
    parameters = {"column": {"$ref": "#/$defs/identifier"}, "max": {"type": "integer", "minimum": 1}}
    required = ("column", "max")

    def template_context(self, given: TemplateInput):
        return {}, {"max_length": given.params["max"]}


CHECK_TYPE = MaxLength()
'''
MAX_LENGTH_SQL = """\
SELECT {% if sample %}*{% else %}COUNT(*) AS observed{% endif %}
FROM {{ this }}
WHERE LENGTH({{ column }}) > %(max_length)s
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
{% if sample %}LIMIT %(sample_limit)s{% endif %}
"""


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("plugins", "sql"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(REPO_ROOT / "config.json", root / "config.json")
    return root


def _run(root: Path, code: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKIFY_")}
    env["PYTHONPATH"] = str(root / "plugins")
    env["SPARKIFY_SOURCE"] = str(root / "data")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_check_type_is_one_module_plus_its_sql_file(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    (root / "plugins" / "sparkify" / "checks" / "max_length.py").write_text(MAX_LENGTH_MODULE)
    (root / "sql" / "quality" / "max_length.sql").write_text(MAX_LENGTH_SQL)
    document = json.loads((root / "config.json").read_text())
    document["checks"].append(
        {"name": "users_last_name_short", "table": "users", "type": "max_length", "column": "last_name", "max": 40}
    )
    (root / "config.json").write_text(json.dumps(document))
    bad = {**document, "checks": [*document["checks"][:-1], {**document["checks"][-1], "maximum": 40}]}
    (root / "bad.json").write_text(json.dumps(bad))

    seen = _run(
        root,
        """
        import json
        from sparkify.config import ConfigError, load_config
        from sparkify.quality import build_check_sql, build_sample_sql, judge
        config = load_config("config.json")
        check = next(c for c in config.checks if c.name == "users_last_name_short")
        kw = dict(partition_column=None, partition_key=None, tables={})
        query = build_check_sql(check.type, '"s"."users"', check.params, **kw)
        sample = build_sample_sql(check.type, '"s"."users"', check.params, **kw)
        try:
            load_config("bad.json")
            refused = None
        except ConfigError as error:
            refused = str(error)
        print(json.dumps({
            "kwargs": [k for k in config.check_kwargs() if k["name"] == check.name],
            "sql": query.sql, "params": query.params, "sample_params": sample.params,
            "verdicts": [judge(check.type, n, check.params).passed for n in (0, 1)],
            "refused": refused,
        }))
        """,
    )
    assert seen["kwargs"] and seen["kwargs"][0]["check_type"] == "max_length"
    assert 'LENGTH("last_name") > %(max_length)s' in seen["sql"]
    assert seen["params"] == {"max_length": 40}
    assert seen["sample_params"] == {"max_length": 40, "sample_limit": 10}
    assert seen["verdicts"] == [True, False]  # failing-row judging comes with the base class
    assert "maximum: unknown key" in seen["refused"]  # the schema branch is generated from the module


def test_a_source_field_is_one_line_plus_its_ddl_column(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    schema = root / "plugins" / "sparkify" / "source_schema.py"
    text = schema.read_text()
    anchor = '    Field("userId", "user_id", "str", required=True, max_length=64),\n'
    assert text.count(anchor) == 1
    schema.write_text(text.replace(anchor, anchor + '    Field("zone", "zone", "str", max_length=8),\n'))
    ddl = root / "sql" / "ddl" / "staging_events.sql"
    text = ddl.read_text()
    assert text.count("    user_id ") == 1
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("    user_id "))
    lines.insert(at + 1, "    zone            VARCHAR(8),\n")
    ddl.write_text("".join(lines))

    seen = _run(
        root,
        """
        import json
        from sparkify.parsing import parse_events
        from sparkify.source_schema import EVENT_COLUMNS
        from sparkify.warehouse.redshift_sql import EVENT_JSON_FIELDS, build_jsonpaths
        line = json.dumps({"page": "Home", "userId": "7", "ts": 1541105830796, "zone": "eu-1"}).encode()
        long = json.dumps({"page": "Home", "userId": "7", "ts": 1541105830796, "zone": "x" * 9}).encode()
        rejected = []
        rows = list(parse_events("2018-11-01", "k", [line, long], rejected))
        print(json.dumps({
            "columns": list(EVENT_COLUMNS),
            "values": [dict(zip(EVENT_COLUMNS, row))["zone"] for row in rows],
            "rejected": [r.reason for r in rejected],
            "jsonpaths": build_jsonpaths(EVENT_JSON_FIELDS)["jsonpaths"],
        }))
        """,
    )
    assert seen["columns"][seen["columns"].index("user_id") + 1] == "zone"
    assert seen["values"] == ["eu-1"]
    assert len(seen["rejected"]) == 1 and "zone" in seen["rejected"][0]
    assert "$['zone']" in seen["jsonpaths"]
    # The drift test, run on the copy (its own ini: the repo's would put the repo's plugins first),
    # passes: the declaration and the DDL agree.
    shutil.copy(REPO_ROOT / "tests" / "unit" / "test_source_schema.py", root / "test_source_schema.py")
    (root / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKIFY_")}
    env["PYTHONPATH"] = str(root / "plugins")
    drift = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_source_schema.py"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert " passed" in drift.stdout and "failed" not in drift.stdout, drift.stdout
