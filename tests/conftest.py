"""Shared test helpers: paths, the data generator, and the reference sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
# The original Sparkify sample ships with the tests (tests/fixtures/sparkify/README.md), so the
# reference-figure tests run on every clone; ../shared/sparkify is the upstream copy it must equal.
SAMPLE = REPO / "tests" / "fixtures" / "sparkify"
SHARED_SAMPLE = REPO.parent / "shared" / "sparkify"


def load_script(name: str, folder: str = "scripts") -> ModuleType:
    """<folder>/<name>.py as a module (scripts/ is not a package; plugins/ is on sys.path only
    once Airflow's settings have loaded with the stack's environment)."""
    spec = importlib.util.spec_from_file_location(name, REPO / folder / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_generator() -> ModuleType:
    """scripts/generate_data.py, the deterministic data generator."""
    return load_script("generate_data")


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="session")
def shared_sample() -> Path:
    """The original Sparkify sample, vendored under tests/fixtures/sparkify (never skipped)."""
    assert (SAMPLE / "log_data").is_dir() and (SAMPLE / "song_data").is_dir(), f"vendored sample missing at {SAMPLE}"
    return SAMPLE
