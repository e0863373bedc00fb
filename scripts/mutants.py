#!/usr/bin/env python3
"""Mutation run: break one rule at a time and check that the tests meant to guard it fail.

Usage (through `make mutants`, which provides the test stack's environment):

    python scripts/mutants.py                 # every mutation; writes docs/mutants.md
    python scripts/mutants.py --only NAME...  # a few, table printed only
    python scripts/mutants.py --list          # names, files and killing tests

The mutations live in tests/mutants/mutations.toml: a file, an exact ``old`` text that must occur
exactly once in it (the run stops before testing anything when one does not, so the list cannot
rot silently), its ``new`` text, and the pytest node ids that must fail. Each mutation runs in a
fresh temporary copy of the tracked tree (the working tree is never edited, so Ctrl-C cannot
leave a mutant behind); pytest runs there with ``-x`` and a timeout.

Outcome: killed = pytest exit code 1 (a test failed); survived = exit 0; anything else
(collection error, usage error, timeout, a skipped test) = error. The listed tests first run once
unmutated in a copy and must all pass without skips, else no outcome would mean anything. Only
behavioural tests count: SQL snapshot and exact-text tests (tests/unit/test_redshift.py,
tests/unit/test_sql_building.py) fail on any edit and are refused, as are e2e tests (too slow).
Exit status 1 when any mutation survived or errored.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTATIONS_FILE = REPO / "tests" / "mutants" / "mutations.toml"
REPORT = REPO / "docs" / "mutants.md"
PYTHON = REPO / ".venv" / "bin" / "python"
#: Tests that cannot count as killing a mutation: text snapshots and exact-SQL assertions fail on
#: any edit of the text they pin, whatever its behaviour; e2e tests need the scheduler (minutes).
REFUSED_TESTS = ("tests/unit/test_redshift.py", "tests/unit/test_sql_building.py", "tests/e2e/", "tests/test_lint.py")
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Mutation:
    """One rule broken on purpose: replace ``old`` (exactly once in ``file``) by ``new``."""

    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    rule: str = ""
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class Outcome:
    mutation: Mutation
    status: str  # killed | survived | error
    seconds: float
    detail: str = ""
    tests_run: int = 0
    killers: list[str] = field(default_factory=list)


def load_mutations(path: Path = MUTATIONS_FILE) -> list[Mutation]:
    """The declared mutations, validated: unique names, allowed tests, old text found exactly once."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    mutations: list[Mutation] = []
    seen: set[str] = set()
    for index, entry in enumerate(document.get("mutation", [])):
        where = f"mutation #{index + 1} ({entry.get('name', '?')})"
        unknown = set(entry) - {"name", "file", "old", "new", "tests", "rule", "timeout"}
        missing = {"name", "file", "old", "new", "tests"} - set(entry)
        if unknown or missing:
            problems.append(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
            continue
        mutation = Mutation(
            name=entry["name"],
            file=entry["file"],
            old=entry["old"],
            new=entry["new"],
            tests=tuple(entry["tests"]),
            rule=entry.get("rule", ""),
            timeout=float(entry.get("timeout", DEFAULT_TIMEOUT)),
        )
        if mutation.name in seen:
            problems.append(f"{where}: duplicate name")
        seen.add(mutation.name)
        if not mutation.tests:
            problems.append(f"{where}: no tests listed")
        for test in mutation.tests:
            if test.startswith(REFUSED_TESTS):
                problems.append(f"{where}: {test} cannot count as killing (snapshot/exact-text or e2e)")
            elif not (REPO / test.split("::")[0]).is_file():
                problems.append(f"{where}: no test file {test.split('::')[0]}")
        target = REPO / mutation.file
        if not target.is_file():
            problems.append(f"{where}: no file {mutation.file}")
            continue
        if mutation.old == mutation.new:
            problems.append(f"{where}: old and new are the same text")
        found = target.read_text(encoding="utf-8").count(mutation.old)
        if found != 1:
            problems.append(f"{where}: old text found {found} times in {mutation.file} (must be exactly once)")
        mutations.append(mutation)
    if problems:
        raise SystemExit("mutations.toml is out of date:\n  " + "\n  ".join(problems))
    return mutations


def tracked_files() -> list[str]:
    """Files of the working tree git knows or would add (tracked + untracked, not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout
    return [name for name in out.decode().split("\0") if name and (REPO / name).is_file()]


def copy_tree(destination: Path, files: list[str]) -> None:
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)


def junit_result(path: Path) -> tuple[int, int, list[str]]:
    """(tests run, tests skipped, node ids of failed/errored tests) from pytest's JUnit XML."""
    if not path.is_file():
        return 0, 0, []
    root = ET.parse(path).getroot()  # noqa: S314 (pytest's own report, written just now)
    run = skipped = 0
    failed: list[str] = []
    for case in root.iter("testcase"):
        run += 1
        if case.find("skipped") is not None:
            skipped += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return run, skipped, failed


def failed_from_output(output: bytes) -> list[str]:
    """Node ids from pytest's short summary ("FAILED tests/x.py::test - ..."), in order."""
    found = []
    for line in output.decode(errors="replace").splitlines():
        for prefix in ("FAILED ", "ERROR "):
            if line.startswith(prefix):
                found.append(line[len(prefix) :].split(" - ")[0].strip())
    return found


def run_pytest(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, float, int, int, list[str]]:
    """pytest -x on tests inside tree: (exit code or None on timeout, seconds, run, skipped, failed)."""
    report = tree / ".mutants-junit.xml"
    report.unlink(missing_ok=True)
    command = [
        str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=--strict-markers -rfE",
        f"--junitxml={report}", *tests,
    ]
    env = tree_env(tree)
    start = time.monotonic()
    process = subprocess.Popen(
        command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        code = None
    except BaseException:  # Ctrl-C: take the pytest process group down with us
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    seconds = time.monotonic() - start
    (tree / ".mutants-pytest.log").write_bytes(output or b"")
    run, skipped, failed = junit_result(report)
    return code, seconds, run, skipped, failed_from_output(output or b"") or failed


def tree_env(tree: Path) -> dict[str, str]:
    """The environment that makes Python import the copy's packages: the venv holds the project
    editable (its finder points at the checkout), and sys.path entries are searched before it."""
    return {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([str(tree / "plugins"), str(tree / "scripts")]),
    }


def imports_the_copy(tree: Path) -> None:
    """Stop unless the copy's sparkify is what its tests import: else every mutant would survive."""
    done = subprocess.run(
        [str(PYTHON), "-c", "import sparkify, sparkify.paths as p; print(sparkify.__file__); print(p.SQL_DIR)"],
        cwd=tree, env=tree_env(tree), capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    module, sql_dir = done.stdout.split()
    if not (Path(module).is_relative_to(tree) and Path(sql_dir).is_relative_to(tree)):
        raise SystemExit(f"[mutants] the copy's tests would import {module} and read {sql_dir}, not the copy's")


def tail(tree: Path, lines: int = 25) -> str:
    log = tree / ".mutants-pytest.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.is_file() else ""


def baseline(mutations: list[Mutation], files: list[str]) -> None:
    """Every listed test passes on the unmutated tree, none skipped; else stop (exit 1)."""
    tests = tuple(dict.fromkeys(test for m in mutations for test in m.tests))
    print(f"[mutants] baseline: {len(tests)} test selection(s), unmutated", flush=True)
    with tempfile.TemporaryDirectory(prefix="sparkify-mutant-base-") as tmp:
        tree = Path(tmp)
        copy_tree(tree, files)
        imports_the_copy(tree)
        code, seconds, run, skipped, failed = run_pytest(tree, tests, DEFAULT_TIMEOUT * 3)
        if code != 0 or skipped or not run:
            print(tail(tree, 40), file=sys.stderr)
            raise SystemExit(
                f"[mutants] baseline is not clean (exit {code}, {run} run, {skipped} skipped, failed {failed}):"
                " outcomes would mean nothing"
            )
    print(f"[mutants] baseline: {run} tests passed in {seconds:.0f} s", flush=True)


def run_mutation(mutation: Mutation, files: list[str]) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="sparkify-mutant-") as tmp:
        tree = Path(tmp)
        copy_tree(tree, files)
        target = tree / mutation.file
        text = target.read_text(encoding="utf-8")
        if text.count(mutation.old) != 1:  # checked at load; the copy must agree
            return Outcome(mutation, "error", 0.0, "old text not found exactly once in the copy")
        target.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
        code, seconds, run, skipped, failed = run_pytest(tree, mutation.tests, mutation.timeout)
        if code == 1 and failed:
            return Outcome(mutation, "killed", seconds, tests_run=run, killers=failed)
        if code == 0 and not skipped:
            return Outcome(mutation, "survived", seconds, f"{run} tests passed", tests_run=run)
        if code is None:
            detail = f"timeout after {mutation.timeout:.0f} s"
        elif code == 0:
            detail = f"{skipped} of {run} tests skipped"
        else:
            detail = f"pytest exit {code}"
        print(tail(tree), file=sys.stderr)
        return Outcome(mutation, "error", seconds, detail, tests_run=run, killers=failed)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(outcomes: list[Outcome], with_rule: bool = False) -> list[str]:
    """Markdown rows: mutation, file, (rule,) outcome, seconds, the test that killed it (or why not)."""
    rule = " what it breaks |" if with_rule else ""
    rows = [
        f"| mutation | file |{rule} outcome | seconds | killed by |",
        f"|---|---|{'---|' if with_rule else ''}---|---:|---|",
    ]
    for o in outcomes:
        by = o.killers[0] if o.killers else o.detail
        what = f" {_cell(o.mutation.rule)} |" if with_rule else ""
        rows.append(
            f"| `{o.mutation.name}` | `{o.mutation.file}` |{what} {o.status} | {o.seconds:.1f} | {_cell(by)} |"
        )
    return rows


def write_report(outcomes: list[Outcome], total_seconds: float) -> None:
    killed = sum(o.status == "killed" for o in outcomes)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    lines = [
        "# Mutation run (`make mutants`)",
        "",
        "Each rule of the data contract broken on purpose, one at a time, in a temporary copy of the tree;",
        "the listed behavioural tests must fail (snapshot and exact-text tests do not count). The list is",
        "`tests/mutants/mutations.toml`; the runner is `scripts/mutants.py`. Regenerated by `make mutants`.",
        "",
        f"Last run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on commit {head.strip() or '?'}:"
        f" {killed} of {len(outcomes)} killed, {total_seconds / 60:.1f} min.",
        "",
        *table(outcomes, with_rule=True),
        "",
    ]
    REPORT.write_text("\n".join(lines), encoding="utf-8")


@contextlib.contextmanager
def test_stack() -> Iterator[None]:
    """The test stack's Postgres and S3 server, as scripts/test.sh runs them: started when down,
    and at the end stopped again only if this run started them."""
    started: list[str] = []
    try:
        for script in ("scripts/postgres.sh", "scripts/s3.sh"):
            if subprocess.run([script, "status"], cwd=REPO, capture_output=True).returncode != 0:
                subprocess.run([script, "start"], cwd=REPO, check=True)
                started.append(script)
        yield
    finally:
        for script in reversed(started):
            subprocess.run([script, "stop"], cwd=REPO, check=False)


def _interrupted(signum: int, _frame: object) -> None:
    """SIGTERM/SIGINT end the run through the finally blocks: pytest's process group is killed, the
    temporary copy removed, and the stack stopped if this run started it."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations (no report file)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run (development only)")
    args = parser.parse_args()

    mutations = load_mutations()
    if args.list:
        for m in mutations:
            print(f"{m.name:40} {m.file:45} {' '.join(m.tests)}")
        return 0
    if args.only:
        unknown = set(args.only) - {m.name for m in mutations}
        if unknown:
            raise SystemExit(f"unknown mutation(s): {sorted(unknown)}")
        mutations = [m for m in mutations if m.name in args.only]
    if not os.environ.get("SPARKIFY_TEST_WAREHOUSE_URL"):
        raise SystemExit("SPARKIFY_TEST_WAREHOUSE_URL is not set: run `make mutants` (it starts the test stack)")

    start = time.monotonic()
    files = tracked_files()
    outcomes: list[Outcome] = []
    with test_stack():
        if not args.no_baseline:
            baseline(mutations, files)
        for number, mutation in enumerate(mutations, start=1):
            print(f"[mutants] {number}/{len(mutations)} {mutation.name} ({mutation.file})", flush=True)
            outcome = run_mutation(mutation, files)
            outcomes.append(outcome)
            print(f"[mutants]   {outcome.status} in {outcome.seconds:.1f} s"
                  f" {outcome.killers[0] if outcome.killers else outcome.detail}", flush=True)
    total = time.monotonic() - start
    print("\n".join(table(outcomes)))
    bad = [o.mutation.name for o in outcomes if o.status != "killed"]
    print(f"[mutants] {len(outcomes) - len(bad)} of {len(outcomes)} killed in {total / 60:.1f} min"
          + (f"; not killed: {', '.join(bad)}" if bad else ""))
    if not args.only:
        write_report(outcomes, total)
        print(f"[mutants] table written to {REPORT.relative_to(REPO)}")
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stop:
        sys.exit(f"[mutants] interrupted ({stop}): nothing was left behind")
