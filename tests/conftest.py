"""Shared test helpers: paths, the data generator, and the reference sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = REPO.parent / "shared" / "sparkify"


def load_generator() -> ModuleType:
    """scripts/generate_data.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("generate_data", REPO / "scripts" / "generate_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="session")
def shared_sample() -> Path:
    """The original Sparkify sample, when ../shared is present (it is optional for the project)."""
    if not (SHARED_SAMPLE / "log_data").is_dir():
        pytest.skip(f"reference sample not present at {SHARED_SAMPLE}")
    return SHARED_SAMPLE
