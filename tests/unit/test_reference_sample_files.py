"""The vendored Sparkify sample (tests/fixtures/sparkify) is the original, byte for byte.

Always: every data file matches the committed SHA256SUMS and no file is missing or extra.
When ../shared/sparkify exists beside the clone (CI copies it there): the vendored copy and the
upstream copy hold the same files with the same sha256. A bare clone has no upstream copy to
compare with, so that test is not collected there (rather than skipped); the manifest test still
pins the bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.conftest import SAMPLE, SHARED_SAMPLE

NOT_DATA = {"README.md", "SHA256SUMS"}


def _digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).as_posix() not in NOT_DATA
    }


def _manifest() -> dict[str, str]:
    entries = {}
    for line in (SAMPLE / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        entries[name] = digest
    return entries


def test_vendored_sample_matches_its_manifest() -> None:
    digests = _digests(SAMPLE)
    assert len(digests) == 101
    assert sum(1 for k in digests if k.startswith("song_data/")) == 71
    assert sorted(k for k in digests if k.startswith("log_data/")) == [
        f"log_data/2018/11/2018-11-{d:02d}-events.json" for d in range(1, 31)
    ]
    assert digests == _manifest()


if (SHARED_SAMPLE / "log_data").is_dir():

    def test_vendored_sample_equals_shared_copy() -> None:
        assert _digests(SAMPLE) == _digests(SHARED_SAMPLE)
