# shellcheck shell=bash
# Environment of the test stack (separate state dir, Postgres 55433, Airflow 8081), so tests can
# run while the demo stack is up. Source it:  . scripts/test-env.sh
_sparkify_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARKIFY_STATE="${SPARKIFY_TEST_STATE:-$_sparkify_repo/.state/test}"
export SPARKIFY_PG_PORT="${SPARKIFY_TEST_PG_PORT:-55433}"
export AIRFLOW_PORT="${SPARKIFY_TEST_AIRFLOW_PORT:-8081}"
unset _sparkify_repo
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
