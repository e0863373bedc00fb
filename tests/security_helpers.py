"""Secrets of a stack (from $SPARKIFY_STATE/secrets/*) and a scanner that reports where one leaks."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

# Generated secrets are hex/base64 tokens; anything of this shape inside a secrets file counts.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{12,}")
_NOT_SECRETS = {"simple_auth_manager_passwords"}


def stack_secrets(state: str | Path | None = None) -> set[str]:
    """Every secret token of the stack's secrets folder (passwords, keys, tokens)."""
    folder = Path(state or os.environ["SPARKIFY_STATE"]) / "secrets"
    found: set[str] = set()
    for path in folder.glob("*"):
        if path.is_file():
            found |= {t for t in _TOKEN.findall(path.read_text(errors="replace")) if t not in _NOT_SECRETS}
    assert found, f"no secrets found under {folder}: the leak tests would prove nothing"
    return found


def leaks(texts: Iterable[tuple[str, str]], secrets: set[str]) -> list[str]:
    """'where: secret prefix…' for every secret found in any (where, text) pair."""
    return [f"{where}: {secret[:4]}…" for where, text in texts for secret in secrets if secret in text]


def files_text(paths: Iterable[Path]) -> Iterable[tuple[str, str]]:
    """(path, text) of every readable file under the given files/folders."""
    for root in paths:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            try:
                yield str(path), path.read_text(errors="replace")
            except OSError:
                continue
