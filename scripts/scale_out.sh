#!/usr/bin/env bash
# The scale-out proof (make scale-out):  scripts/scale_out.sh [pytest args]
#
# The staging + transform backfill of three generated days on the CeleryExecutor, with the stack's
# Redis as broker and two Celery workers, each from its own folder (tests/scale_out, marker
# scale_out; docs/scale-out.md). Runs on the test stack's scripts with SPARKIFY_EXECUTOR=celery:
# starts its Postgres, S3 server and Redis (the fixture owns Airflow and the workers), runs pytest,
# and at exit stops whatever of them was not already running when it began. The Makefile gives it
# its own state dir and ports (SCALE_OUT_* there), so it never touches the demo or test stacks.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

export SPARKIFY_EXECUTOR=celery
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh

was_running=()
for service in postgres s3 redis; do
    if "scripts/$service.sh" status >/dev/null 2>&1; then was_running+=("$service"); fi
done

# Invoked by the EXIT trap (shellcheck misses that here, as in scripts/test.sh).
# shellcheck disable=SC2329
cleanup() {
    local rc=$? service
    scripts/airflow.sh stop >/dev/null 2>&1 || true
    for service in redis s3 postgres; do
        [[ " ${was_running[*]} " == *" $service "* ]] || "scripts/$service.sh" stop || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/postgres.sh start
scripts/s3.sh start
scripts/redis.sh start
start=$(date +%s)
rc=0
python -m pytest -m scale_out tests/scale_out "$@" || rc=$?
echo "[scale-out] pytest exit $rc after $(($(date +%s) - start)) s" >&2
exit "$rc"
