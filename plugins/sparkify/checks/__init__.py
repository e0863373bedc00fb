"""The registry of data-quality check types: every module of this package that defines
``CHECK_TYPE`` (a :class:`~sparkify.checks.base.CheckType`) is one type, found by name.

The config schema's ``check`` definition is generated here from the registered types, so a type's
parameters are declared once, in its module.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from sparkify.checks.base import (
    COMMON_KEYS,
    SCOPES,
    SEVERITIES,
    THRESHOLD_KEYS,
    CheckType,
    Verdict,
)

__all__ = ["CHECK_TYPES", "COMMON_KEYS", "THRESHOLD_KEYS", "CheckType", "Verdict", "check_schema", "check_type"]


def _discover() -> dict[str, CheckType]:
    found: dict[str, CheckType] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "base":
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{module_info.name}"), "CHECK_TYPE", None)
        if not isinstance(kind, CheckType):
            continue
        if kind.name in found:
            raise RuntimeError(f"check type {kind.name!r} is defined twice ({module_info.name})")
        found[kind.name] = kind
    return dict(sorted(found.items()))


#: Every check type by its config name, in name order (the order error messages list them in).
CHECK_TYPES: dict[str, CheckType] = _discover()


def check_type(name: str) -> CheckType:
    """The registered type, or ValueError naming the known ones."""
    try:
        return CHECK_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown check type {name!r}; expected one of {sorted(CHECK_TYPES)}") from None


def check_schema() -> dict[str, Any]:
    """The JSON Schema of one entry of config.json's ``checks``: common keys, then one branch per type."""
    return {
        "description": (
            "A data-quality check. Common keys are declared here; each type's then-branch re-lists them "
            "with its own parameters and forbids anything else, so a wrong parameter is reported against "
            "the exact key. Generated from sparkify.checks."
        ),
        "type": "object",
        "required": ["name", "table", "type"],
        "properties": {
            "name": {"$ref": "#/$defs/identifier"},
            "table": {"$ref": "#/$defs/identifier"},
            "type": {"enum": list(CHECK_TYPES)},
            "severity": {"enum": list(SEVERITIES)},
            "scope": {"enum": list(SCOPES)},
        },
        "allOf": [kind.schema_branch() for kind in CHECK_TYPES.values()],
    }
