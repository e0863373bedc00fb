"""The docs name only things that exist: every link resolves (file and heading), every repo path,
test, make target and config key that README.md, docs/ and bench/README*.md name is there.

Docs drift as code moves; this is what keeps "each fact told once" from turning into "each fact
told once, wrongly".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sparkify.config import REPO_ROOT, config_schema

DOCS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md"), *(REPO_ROOT / "bench").glob("README*.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
#: Top-level folders whose paths the docs name.
ROOTS = ("dags/", "plugins/", "sql/", "tests/", "scripts/", "bench/", "docs/", ".ci/")
#: Placeholders and generated locations, not paths to check.
NOT_A_PATH = re.compile(r"[<>*…{}$]|YYYY|\bN\b|bench/results/|\.state/")
#: A file named without a folder (``config.py``); checked against every file name in the repo.
BARE_FILE = re.compile(r"[\w.-]+\.(py|sql|sh|json|md|toml|yaml|txt|cfg)")
BASENAMES = {
    path.name
    for path in REPO_ROOT.rglob("*")
    if path.is_file() and not {".venv", ".git", ".state", "node_modules"} & set(path.relative_to(REPO_ROOT).parts)
}
#: Files the benchmarks write into each run's folder under bench/results/ (git-ignored).
GENERATED = {"airflow.md", "report.md", "airflow.csv"}
CONFIG_ROOTS = ("source", "warehouse", "staging", "fact", "dimensions", "checks", "quality", "alerts")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def prose(path: Path) -> str:
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_link_resolves(doc: Path) -> None:
    broken = []
    for target in LINK.findall(prose(doc)):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {rel(linked)}")
    assert broken == []


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_named_repo_path_and_test_exists(doc: Path) -> None:
    missing = []
    for token in CODE.findall(doc.read_text(encoding="utf-8")):
        for word in token.split():
            word = word.strip(",;:()")
            if NOT_A_PATH.search(word):
                continue
            if BARE_FILE.fullmatch(word):  # a file named without its folder: it exists somewhere
                if word not in BASENAMES | GENERATED:
                    missing.append(word)
                continue
            if not word.startswith(ROOTS):
                continue
            path_part, _, test = word.partition("::")
            path = REPO_ROOT / path_part
            if not path.exists():
                missing.append(word)
            elif test:
                name = re.split(r"[:\[]", test)[-1] if "::" in test else test.split("[")[0]
                if not re.search(rf"\b(def|class) {re.escape(name)}\b", path.read_text(encoding="utf-8")):
                    missing.append(f"{word} (no {name} in {path_part})")
    assert missing == []


def test_every_named_make_target_exists() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (REPO_ROOT / "Makefile").read_text(), re.M))
    named = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        code = CODE.findall(FENCE.sub("", text)) + FENCE.findall(text)  # commands, not prose
        named |= {name for snippet in code for name in re.findall(r"\bmake ([a-z][\w-]*)", snippet)}
    assert named, "the docs name no make target: the pattern is wrong"
    assert sorted(named - targets) == []


def test_every_named_config_key_exists() -> None:
    schema = config_schema()

    def known(parts: list[str]) -> bool:
        node = schema
        for part in parts:
            node = _resolve(schema, node)
            if node.get("type") == "array":
                node = _resolve(schema, node["items"])
            properties = dict(node.get("properties", {}))
            for branch in node.get("allOf", []):
                properties.update(branch.get("then", {}).get("properties", {}))
            if part not in properties:
                return False
            node = properties[part] if isinstance(properties[part], dict) else {}
        return True

    named = set()
    for doc in DOCS:
        for token in CODE.findall(doc.read_text(encoding="utf-8")):
            if re.fullmatch(rf"({'|'.join(CONFIG_ROOTS)})(\.[a-z_]+)+", token):
                named.add(token)
    assert named, "the docs name no config key: the pattern is wrong"
    assert sorted(key for key in named if not known(key.split("."))) == []


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node
