# shellcheck shell=bash
# Environment of the local Sparkify stack. Source it:  . scripts/env.sh
#
# Every variable can be overridden from the caller's environment. Two stacks can run side by
# side: the demo stack (defaults below) and the test stack (scripts/test.sh sets
# SPARKIFY_STATE=$REPO/.state/test, SPARKIFY_PG_PORT=55433, AIRFLOW_PORT=8081).
#
# Secrets (Postgres password, Fernet key, JWT secret, API secret key, admin password) are
# generated once per state dir into $SPARKIFY_STATE/secrets/ (mode 600) and never printed.

# --- where things live -------------------------------------------------------------------
REPO="${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export REPO
export SPARKIFY_STATE="${SPARKIFY_STATE:-$REPO/.state/demo}"
mkdir -p "$SPARKIFY_STATE"
SPARKIFY_STATE="$(cd "$SPARKIFY_STATE" && pwd)"
export SPARKIFY_STATE
# Values derived from the state dir and ports, dropped when an environment exported for another
# stack is re-sourced with a different SPARKIFY_STATE / port (e.g. `make test` from a demo shell).
if [[ -n "${SPARKIFY_ENV_KEY:-}" && "$SPARKIFY_ENV_KEY" != "$SPARKIFY_STATE|${SPARKIFY_PG_PORT:-55432}|${AIRFLOW_PORT:-8080}" ]]; then
    unset SPARKIFY_PG_ROOT SPARKIFY_PGDATA SPARKIFY_CELERY_ROOT AIRFLOW_HOME AIRFLOW__API__BASE_URL \
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL SPARKIFY_WORKER_LOG_PORT SPARKIFY_TRIGGER_LOG_PORT
    # A derived S3 or Redis port belongs to the other stack; an explicitly chosen one is kept.
    if [[ "${SPARKIFY_S3_PORT_FROM:-}" == derived ]]; then unset SPARKIFY_S3_PORT SPARKIFY_S3_PORT_FROM; fi
    if [[ "${SPARKIFY_REDIS_PORT_FROM:-}" == derived ]]; then unset SPARKIFY_REDIS_PORT SPARKIFY_REDIS_PORT_FROM; fi
fi
export SPARKIFY_ENV_KEY="$SPARKIFY_STATE|${SPARKIFY_PG_PORT:-55432}|${AIRFLOW_PORT:-8080}"
export SPARKIFY_SECRETS="$SPARKIFY_STATE/secrets"
export SPARKIFY_LOGS="$SPARKIFY_STATE/logs"
export SPARKIFY_PIDS="$SPARKIFY_STATE/pids"
export SPARKIFY_VENV="${SPARKIFY_VENV:-$REPO/.venv}"
if [[ -d "$SPARKIFY_VENV/bin" && ":$PATH:" != *":$SPARKIFY_VENV/bin:"* ]]; then
    export PATH="$SPARKIFY_VENV/bin:$PATH"
fi

# --- Postgres ------------------------------------------------------------------------------
export SPARKIFY_PG_BIN="${SPARKIFY_PG_BIN:-$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)}"
export SPARKIFY_PG_HOST=127.0.0.1
export SPARKIFY_PG_PORT="${SPARKIFY_PG_PORT:-55432}"
# The data dir lives outside the repo (the repo may sit where the postgres OS user cannot
# read), one per state dir, keyed by a short hash of the state dir's path.
_sparkify_hash="$(printf '%s' "$SPARKIFY_STATE" | sha1sum | cut -c1-10)"
export SPARKIFY_PG_ROOT="${SPARKIFY_PG_ROOT:-/var/tmp/sparkify-$_sparkify_hash}"
export SPARKIFY_PGDATA="${SPARKIFY_PGDATA:-$SPARKIFY_PG_ROOT/pgdata}"
export SPARKIFY_PG_SOCKET_DIR="$SPARKIFY_PGDATA"   # unix socket inside the data dir
# The Celery workers' own folders (SPARKIFY_EXECUTOR=celery, scripts/airflow.sh): outside the repo
# and the state dir, as on other machines, keyed like the data dir.
export SPARKIFY_CELERY_ROOT="${SPARKIFY_CELERY_ROOT:-/var/tmp/sparkify-$_sparkify_hash-celery}"
export SPARKIFY_PG_USER=sparkify
export SPARKIFY_PG_DB=sparkify
export SPARKIFY_PG_TEST_DB=sparkify_test
unset _sparkify_hash

# --- Airflow ports -------------------------------------------------------------------------
export AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW_HOST="${AIRFLOW_HOST:-127.0.0.1}"
# Log-server ports of the worker (LocalExecutor, inside the scheduler) and the triggerer:
# derived from AIRFLOW_PORT so the demo and test stacks do not collide (8793/8794, 8795/8796).
export SPARKIFY_WORKER_LOG_PORT="${SPARKIFY_WORKER_LOG_PORT:-$((8793 + 2 * (AIRFLOW_PORT - 8080)))}"
export SPARKIFY_TRIGGER_LOG_PORT="${SPARKIFY_TRIGGER_LOG_PORT:-$((SPARKIFY_WORKER_LOG_PORT + 1))}"

# --- secrets (generated once, mode 600) ----------------------------------------------------
_sparkify_secret() {  # _sparkify_secret NAME KIND -> prints the secret, creating it on first use
    local file="$SPARKIFY_SECRETS/$1" tmp value
    if [[ ! -s "$file" ]]; then
        (umask 077 && mkdir -p "$SPARKIFY_SECRETS")
        case "$2" in
            fernet) value="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')" ;;
            hex64)  value="$(od -An -tx1 -N48 /dev/urandom | tr -d ' \n')" ;;  # >= 64 bytes: HS512 key
            *)      value="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" ;;
        esac
        tmp="$(umask 077 && mktemp "$file.XXXXXX")"
        printf '%s\n' "$value" >"$tmp"
        # ln is atomic and fails if the file exists: the first writer wins when two race.
        ln "$tmp" "$file" 2>/dev/null || true
        rm -f "$tmp"
    fi
    head -n 1 "$file"
}
SPARKIFY_PG_PASSWORD="$(_sparkify_secret pg_sparkify_password hex)"
export SPARKIFY_PG_PASSWORD
AIRFLOW__CORE__FERNET_KEY="$(_sparkify_secret fernet_key fernet)"
AIRFLOW__API_AUTH__JWT_SECRET="$(_sparkify_secret jwt_secret hex64)"
AIRFLOW__API__SECRET_KEY="$(_sparkify_secret api_secret_key hex)"
export AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY
export SPARKIFY_ADMIN_USER=admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$SPARKIFY_SECRETS/simple_auth_manager_passwords.json"
if [[ ! -s "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" ]]; then
    _sparkify_admin_pw="$(_sparkify_secret admin_password hex)"
    (umask 077 && printf '{"%s": "%s"}\n' "$SPARKIFY_ADMIN_USER" "$_sparkify_admin_pw" \
        >"$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    unset _sparkify_admin_pw
fi
# SigV4 credentials of the local S3 server (scripts/s3.sh writes them into weed's s3 config).
SPARKIFY_S3_ACCESS_KEY="$(_sparkify_secret s3_access_key hex)"
SPARKIFY_S3_SECRET_KEY="$(_sparkify_secret s3_secret_key hex64)"
export SPARKIFY_S3_ACCESS_KEY SPARKIFY_S3_SECRET_KEY
# Password of the stack's Redis (scripts/redis.sh writes it into its config file, mode 600).
SPARKIFY_REDIS_PASSWORD="$(_sparkify_secret redis_password hex)"
export SPARKIFY_REDIS_PASSWORD
unset -f _sparkify_secret

# --- warehouse connection ------------------------------------------------------------------
export SPARKIFY_WAREHOUSE_URL="postgresql://$SPARKIFY_PG_USER:$SPARKIFY_PG_PASSWORD@$SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT/$SPARKIFY_PG_DB"
export SPARKIFY_WAREHOUSE_URL_MASKED="postgresql://$SPARKIFY_PG_USER:***@$SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT/$SPARKIFY_PG_DB"
export SPARKIFY_TEST_WAREHOUSE_URL="postgresql://$SPARKIFY_PG_USER:$SPARKIFY_PG_PASSWORD@$SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT/$SPARKIFY_PG_TEST_DB"
export AIRFLOW_CONN_SPARKIFY_WAREHOUSE="{\"conn_type\": \"postgres\", \"host\": \"$SPARKIFY_PG_HOST\", \"port\": $SPARKIFY_PG_PORT, \"login\": \"$SPARKIFY_PG_USER\", \"password\": \"$SPARKIFY_PG_PASSWORD\", \"schema\": \"$SPARKIFY_PG_DB\", \"extra\": {\"application_name\": \"sparkify\"}}"

# --- local S3 server (scripts/s3.sh) ------------------------------------------------------
# Port: $SPARKIFY_S3_PORT, else derived from the Postgres port (55432 -> 8333, 55433 -> 8343, …)
# so every stack gets its own; weed also uses the next 4 ports and those + 10000 (gRPC).
if [[ -z "${SPARKIFY_S3_PORT:-}" ]]; then
    SPARKIFY_S3_PORT=$((8333 + 10 * (SPARKIFY_PG_PORT - 55432)))
    ((SPARKIFY_S3_PORT >= 1024 && SPARKIFY_S3_PORT <= 55000)) || SPARKIFY_S3_PORT=8333
    export SPARKIFY_S3_PORT_FROM=derived
fi
export SPARKIFY_S3_PORT
export SPARKIFY_S3_ENDPOINT="http://127.0.0.1:$SPARKIFY_S3_PORT"
export SPARKIFY_S3_BUCKET="${SPARKIFY_S3_BUCKET:-sparkify}"
# The source's AWS connection (config.json source.aws_conn_id = aws_default) points at the local
# server: endpoint_url + path-style addressing, keys as login/password. A connection the caller
# exported (another S3-compatible store, or real AWS) is left alone.
if [[ -z "${AIRFLOW_CONN_AWS_DEFAULT:-}" || "${SPARKIFY_AWS_CONN_MANAGED:-}" == 1 ]]; then
    export AIRFLOW_CONN_AWS_DEFAULT="{\"conn_type\": \"aws\", \"login\": \"$SPARKIFY_S3_ACCESS_KEY\", \"password\": \"$SPARKIFY_S3_SECRET_KEY\", \"extra\": {\"endpoint_url\": \"$SPARKIFY_S3_ENDPOINT\", \"region_name\": \"us-east-1\", \"config_kwargs\": {\"s3\": {\"addressing_style\": \"path\"}}}}"
    export SPARKIFY_AWS_CONN_MANAGED=1
fi

# --- Redis (scripts/redis.sh): the Celery broker of the scale-out stack ------------------------
# Port: $SPARKIFY_REDIS_PORT, else derived from the Postgres port (55432 -> 6380, 55433 -> 6381,
# …), never Redis' default 6379 (a system Redis may own it). Binds 127.0.0.1, password required.
if [[ -z "${SPARKIFY_REDIS_PORT:-}" ]]; then
    SPARKIFY_REDIS_PORT=$((6380 + SPARKIFY_PG_PORT - 55432))
    ((SPARKIFY_REDIS_PORT >= 1024 && SPARKIFY_REDIS_PORT <= 55000 && SPARKIFY_REDIS_PORT != 6379)) \
        || SPARKIFY_REDIS_PORT=6380
    export SPARKIFY_REDIS_PORT_FROM=derived
fi
export SPARKIFY_REDIS_PORT
export SPARKIFY_REDIS_HOST=127.0.0.1

# --- Airflow -------------------------------------------------------------------------------
# Every task process imports the DAG files and the plugins folder from scratch: let Python cache
# their bytecode (the venv's is compiled at install, see the Makefile) even where the caller's
# environment exports PYTHONDONTWRITEBYTECODE=1. __pycache__/ is git-ignored.
unset PYTHONDONTWRITEBYTECODE
export AIRFLOW_HOME="${AIRFLOW_HOME:-$SPARKIFY_STATE/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$REPO/dags}"
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$REPO/plugins}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-True}"
# Throughput settings measured by make bench-airflow (bench/README-airflow.md): 4 runs in flight
# per DAG (max_active_runs) need 16 executor slots and 16 task slots per DAG, and the warehouse
# pool 8 slots (2 writers per run); the scheduler sleeps 0.2 s, not 1 s, after an idle loop, so a
# finished task's successor starts sooner; the dag-processor re-parses unchanged DAG files every
# 30 s (Airflow's default), not every 10 s (its CPU competes with the tasks on a small machine).
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-16}"
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="${AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG:-16}"
export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="${AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME:-0.2}"
export SPARKIFY_WAREHOUSE_POOL_SLOTS="${SPARKIFY_WAREHOUSE_POOL_SLOTS:-8}"
export AIRFLOW__CORE__AUTH_MANAGER="${AIRFLOW__CORE__AUTH_MANAGER:-airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-$SPARKIFY_ADMIN_USER:admin}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://$SPARKIFY_PG_USER:$SPARKIFY_PG_PASSWORD@$SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT/airflow"
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-30}"
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="${AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL:-30}"
export AIRFLOW__API__HOST="$AIRFLOW_HOST"
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://localhost:$AIRFLOW_PORT}"
# Task workers talk to the api-server's execution API; the default is http://localhost:8080,
# which would be the *other* stack's api-server when the test stack runs on 8081.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://127.0.0.1:$AIRFLOW_PORT/execution/}"
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$SPARKIFY_WORKER_LOG_PORT"
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="$SPARKIFY_TRIGGER_LOG_PORT"
export SPARKIFY_AIRFLOW_URL="http://127.0.0.1:$AIRFLOW_PORT"

# --- executor: SPARKIFY_EXECUTOR=local (default) | celery ----------------------------------
# local: the LocalExecutor inside the scheduler. celery: the CeleryExecutor, with the stack's
# Redis as broker, the metadata Postgres as result backend and $SPARKIFY_CELERY_WORKERS workers
# (`airflow celery worker`, started by scripts/airflow.sh, each from its own copy of the code;
# docs/scale-out.md). The tuned settings above apply to both: the workers' concurrencies add up
# to AIRFLOW__CORE__PARALLELISM, and the warehouse pool is the same. docs/helm/values.yaml uses
# these values (tests/unit/test_helm_values.py compares them).
export SPARKIFY_EXECUTOR="${SPARKIFY_EXECUTOR:-local}"
case "$SPARKIFY_EXECUTOR" in
    local) export AIRFLOW__CORE__EXECUTOR=LocalExecutor ;;
    celery)
        export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
        export SPARKIFY_CELERY_WORKERS="${SPARKIFY_CELERY_WORKERS:-2}"
        export AIRFLOW__CELERY__WORKER_CONCURRENCY="${AIRFLOW__CELERY__WORKER_CONCURRENCY:-$(((AIRFLOW__CORE__PARALLELISM + SPARKIFY_CELERY_WORKERS - 1) / SPARKIFY_CELERY_WORKERS))}"
        export AIRFLOW__CELERY__BROKER_URL="redis://:$SPARKIFY_REDIS_PASSWORD@$SPARKIFY_REDIS_HOST:$SPARKIFY_REDIS_PORT/0"
        export AIRFLOW__CELERY__RESULT_BACKEND="db+${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN}"
        # Task logs go to the local S3 server (as on Kubernetes, docs/helm/values.yaml): each worker
        # writes into its own folder, so the api-server reads finished tasks' logs from S3.
        export SPARKIFY_TASK_LOG_URI="${SPARKIFY_TASK_LOG_URI:-s3://airflow-logs/logs}"
        export AIRFLOW__LOGGING__REMOTE_LOGGING=True
        export AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER="$SPARKIFY_TASK_LOG_URI"
        export AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID=aws_default
        ;;
    *) echo "env.sh: SPARKIFY_EXECUTOR must be local or celery, not '$SPARKIFY_EXECUTOR'" >&2; return 2 ;;
esac
