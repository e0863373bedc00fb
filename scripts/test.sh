#!/usr/bin/env bash
# Run the test suite on the test stack:  scripts/test.sh [pytest args]   (make test ARGS=...)
#
# Ensures the venv, starts the test Postgres (127.0.0.1:55433) and S3 server (127.0.0.1:8343), runs pytest. The e2e fixture
# starts/stops the test Airflow (port 8081) itself with scripts/airflow.sh. At exit, stops
# whatever of the test stack was not already running when this script began.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
make -s venv

# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh

pg_was_running=0
af_was_running=0
s3_was_running=0
scripts/postgres.sh status >/dev/null 2>&1 && pg_was_running=1
scripts/s3.sh status >/dev/null 2>&1 && s3_was_running=1
scripts/airflow.sh status >/dev/null 2>&1 && af_was_running=1

# Invoked by the EXIT trap below; shellcheck 0.11 misses that here (its issue #3385: a script
# ending in `exit "$rc"` hides trap-invoked functions from SC2329).
# shellcheck disable=SC2329
cleanup() {
    local rc=$?
    if ((!af_was_running)); then scripts/airflow.sh stop >/dev/null 2>&1 || true; fi
    if ((!pg_was_running)); then scripts/postgres.sh stop || true; fi
    if ((!s3_was_running)); then scripts/s3.sh stop || true; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/postgres.sh start
scripts/s3.sh start   # the local S3 API server (real HTTP + SigV4) for the S3 source tests
start=$(date +%s)
rc=0
python -m pytest "$@" || rc=$?
echo "[test] pytest exit $rc after $(($(date +%s) - start)) s" >&2
exit "$rc"
