#!/usr/bin/env bash
# The two locks, compiled by uv from pyproject.toml (make lock / make lint):
#
#   [project] dependencies          -> requirements.txt      runtime: what the production Airflow image needs
#   + [dependency-groups] test, lint, local-stack, bench
#                                   -> requirements-dev.txt  runtime + tests, lint, local S3, benchmarks;
#                                                             constrained to requirements.txt (-c), so it
#                                                             repeats the runtime pins and never changes one
#
#   scripts/lock.sh          rewrite both locks (keeps every current pin: no --upgrade; to move a
#                            package, edit its pin in the lock or run with UPGRADE="--upgrade-package NAME")
#   scripts/lock.sh --check  compile into a temp dir and diff against the committed locks;
#                            exit 1 on drift (make lint). Needs the package index, like make lock.
#
# Target: CPython 3.11.7+ (the oldest 3.11 we run: the dev machines and CI; soupsieve needs
# 3.11.5+) on Linux x86_64 (manylinux_2_28, as the apache/airflow image), whatever
# machine runs this.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

UV="${UV:-$REPO/.venv/bin/uv}"
[[ -x "$UV" ]] || { echo "lock.sh: $UV not found: run make venv" >&2; exit 1; }

check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: scripts/lock.sh [--check]" >&2; exit 2 ;;
esac

# UPGRADE: optional extra uv arguments (e.g. --upgrade-package ruff); word splitting is intended.
read -r -a upgrade <<<"${UPGRADE:-}"

DEV_GROUPS=(--group test --group lint --group local-stack --group bench)

compile() {  # compile OUT [ARGS...]: OUT's current pins are uv's preferences, so nothing moves unasked
    local out="$1"
    shift
    "$UV" pip compile --quiet --python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
        --custom-compile-command "make lock" "${upgrade[@]}" pyproject.toml "$@" -o "$out"
}

if ((check)); then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cp requirements.txt requirements-dev.txt "$tmp/"
    # The dev lock compiles against the committed requirements.txt (-c): a drifted runtime lock is
    # reported by the first diff.
    compile "$tmp/requirements.txt"
    compile "$tmp/requirements-dev.txt" "${DEV_GROUPS[@]}" -c requirements.txt
    rc=0
    for f in requirements.txt requirements-dev.txt; do
        diff -u "$f" "$tmp/$f" || rc=1
    done
    if ((rc)); then
        echo "lock.sh: the locks are out of date with pyproject.toml: run make lock" >&2
    else
        echo "lock.sh: requirements.txt and requirements-dev.txt match pyproject.toml" >&2
    fi
    exit "$rc"
fi

compile requirements.txt
compile requirements-dev.txt "${DEV_GROUPS[@]}" -c requirements.txt
echo "lock.sh: wrote requirements.txt and requirements-dev.txt" >&2
