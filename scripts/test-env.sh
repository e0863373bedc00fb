# shellcheck shell=bash
# Environment of the test stack (separate state dir, Postgres 55433, Airflow 8081, S3 8343, Redis 6381), so tests can
# run while the demo stack is up. Source it:  . scripts/test-env.sh
_sparkify_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARKIFY_STATE="${SPARKIFY_TEST_STATE:-$_sparkify_repo/.state/test}"
export SPARKIFY_PG_PORT="${SPARKIFY_TEST_PG_PORT:-55433}"
export AIRFLOW_PORT="${SPARKIFY_TEST_AIRFLOW_PORT:-8081}"
# S3: $SPARKIFY_TEST_S3_PORT, else env.sh derives it from the test Postgres port (55433 -> 8343).
if [[ -n "${SPARKIFY_TEST_S3_PORT:-}" ]]; then
    export SPARKIFY_S3_PORT="$SPARKIFY_TEST_S3_PORT" SPARKIFY_S3_PORT_FROM=test
else
    unset SPARKIFY_S3_PORT SPARKIFY_S3_PORT_FROM
fi
# Redis likewise: $SPARKIFY_TEST_REDIS_PORT, else derived from the test Postgres port (55433 -> 6381).
if [[ -n "${SPARKIFY_TEST_REDIS_PORT:-}" ]]; then
    export SPARKIFY_REDIS_PORT="$SPARKIFY_TEST_REDIS_PORT" SPARKIFY_REDIS_PORT_FROM=test
else
    unset SPARKIFY_REDIS_PORT SPARKIFY_REDIS_PORT_FROM
fi
unset _sparkify_repo
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
