"""The mutation list of `make mutants` stays applicable: every old text occurs exactly once.

The mutation run itself is slow and runs before a release; this check is instant, so an edit that
makes a mutation's old text vanish (or appear twice) fails here, in `make test`, the same day.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutants", REPO / "scripts" / "mutants.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_every_mutation_applies_exactly_once(runner: ModuleType) -> None:
    mutations = runner.load_mutations()  # raises SystemExit listing every stale entry
    assert len(mutations) >= 20
    assert len({m.name for m in mutations}) == len(mutations)


@pytest.mark.parametrize(
    ("old", "test", "problem"),
    [
        ("no such text anywhere", "tests/unit/test_parsing.py", "old text found 0 times"),
        ("return", "tests/unit/test_parsing.py", "must be exactly once"),  # many times in sources.py
        ("def storable_key(", "tests/unit/test_redshift.py", "cannot count as killing"),
        ("def storable_key(", "tests/e2e/test_faults.py", "cannot count as killing"),
    ],
)
def test_a_stale_or_unfit_entry_stops_the_run(runner: ModuleType, tmp_path: Path, old: str, test: str,
                                              problem: str) -> None:
    path = tmp_path / "mutations.toml"
    path.write_text(
        f'[[mutation]]\nname = "x"\nfile = "plugins/sparkify/sources.py"\nold = """{old}"""\nnew = "y"\n'
        f'tests = ["{test}"]\n'
    )
    with pytest.raises(SystemExit, match=problem):
        runner.load_mutations(path)


def test_a_mutant_copy_imports_its_own_package(runner: ModuleType, tmp_path: Path) -> None:
    """The venv holds the project editable (pointing at the checkout): unless the copy's packages
    come first, every mutant would be tested against the unmutated checkout and survive."""
    files = [f for f in runner.tracked_files() if f.startswith(("plugins/", "scripts/", "sql/"))]
    runner.copy_tree(tmp_path, files)
    runner.imports_the_copy(tmp_path)  # raises SystemExit when the checkout's package would be used
    empty = tmp_path / "elsewhere"  # no package in it: the checkout's would be imported
    empty.mkdir()
    with pytest.raises(SystemExit, match="not the copy's"):
        runner.imports_the_copy(empty)
