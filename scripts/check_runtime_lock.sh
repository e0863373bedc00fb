#!/usr/bin/env bash
# The runtime lock alone is enough to run the pipeline (make check-runtime-lock):
#
#   a throwaway venv under $TMPDIR gets requirements.txt and the project itself, built and
#   installed as a wheel (`pip install .`, what the production image does), then every sparkify
#   module is imported from the installed package (no plugins folder on the path: the project
#   home with config.json and sql/ is given as SPARKIFY_HOME), a DagBag parses dags/ with no
#   import errors, and none of the dev/test packages is importable (they must not leak into the lock).
#
# Uses the venv's pinned uv and its cache, so after the first run it takes seconds. Never
# downloads a Python: PYTHON (default python3.11) must be a local CPython 3.11.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

UV="${UV:-$REPO/.venv/bin/uv}"
[[ -x "$UV" ]] || { echo "check_runtime_lock.sh: $UV not found: run make venv" >&2; exit 1; }
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sparkify-runtime-lock.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
"$UV" venv --quiet --no-python-downloads --python "$PYTHON" "$tmp/venv"
"$UV" pip install --quiet --python "$tmp/venv/bin/python" -r requirements.txt
# Not editable, no build isolation (setuptools is in the runtime lock): a wheel built from a copy
# of what pyproject packages (setuptools writes build/ next to the sources, not in the checkout).
# The package folders come from pyproject's package-dir, so a new one is copied too.
mkdir -p "$tmp/src"
cp pyproject.toml "$tmp/src/"
"$REPO/.venv/bin/python" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["setuptools"]["package-dir"].values()))' |
    while read -r folder; do
        mkdir -p "$tmp/src/$(dirname "$folder")"
        cp -r "$folder" "$tmp/src/$folder"
    done
"$UV" pip install --quiet --python "$tmp/venv/bin/python" --no-build-isolation --no-deps "$tmp/src"
echo "check_runtime_lock.sh: installed requirements.txt and the project into $tmp/venv in $(($(date +%s) - start)) s" >&2

# A clean Airflow home (sqlite, no examples): parsing DAGs needs no metadata DB.
env -i PATH="$tmp/venv/bin:/usr/bin:/bin" HOME="$tmp" AIRFLOW_HOME="$tmp/airflow" \
    AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__PLUGINS_FOLDER="$tmp/no-plugins" SPARKIFY_HOME="$REPO" \
    "$tmp/venv/bin/python" - "$REPO" <<'PY'
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

repo = Path(sys.argv[1])
import sparkify
import sparkify_stack

for package in (sparkify, sparkify_stack):  # the wheel's copy, not the checkout's
    assert not Path(package.__file__).resolve().is_relative_to(repo), package.__file__

modules = [m.name for m in pkgutil.walk_packages(sparkify.__path__, "sparkify.")]
for name in modules:
    importlib.import_module(name)

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=str(repo / "dags"))
assert not bag.import_errors, bag.import_errors
assert bag.dag_ids, "no DAG found in dags/"

# Dev/test tools must not be in the runtime lock (the import names of the dependency groups' tools).
leaked = [n for n in ("pytest", "hypothesis", "sqlglot", "sqlfluff", "ruff", "matplotlib", "pandas")
          if importlib.util.find_spec(n) is not None]
assert not leaked, f"dev packages installed by requirements.txt: {leaked}"
print(f"runtime lock OK: {len(modules)} sparkify modules imported; DAGs {sorted(bag.dag_ids)} parsed, no import errors")
PY
