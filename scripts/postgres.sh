#!/usr/bin/env bash
# Project-owned PostgreSQL cluster for the Sparkify stack.
#
#   scripts/postgres.sh start    init (first time) + start + create roles/databases; no-op if running
#   scripts/postgres.sh stop     pg_ctl stop -m fast; no-op if stopped
#   scripts/postgres.sh status   exit 0 if running (prints where), 3 if not
#   scripts/postgres.sh psql [psql args]   psql on the warehouse as `sparkify` over TCP
#
# Listens on 127.0.0.1:$SPARKIFY_PG_PORT only (TCP auth scram-sha-256); the unix socket lives
# inside the data dir and is only for the cluster's OS-user admin (peer). As root the server
# runs as the `postgres` OS user. Configuration: scripts/env.sh.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[postgres] %s\n' "$*" >&2; }

if [[ $(id -u) -eq 0 ]]; then
    PG_OS_USER=postgres
    # cd /: the postgres user may not be allowed into the caller's cwd (e.g. /root/...).
    RUNUSER="$(command -v runuser || echo /usr/sbin/runuser)"   # /usr/sbin may not be on PATH
    as_pg() { (cd / && "$RUNUSER" -u postgres -- "$@"); }
else
    PG_OS_USER="$(id -un)"
    as_pg() { "$@"; }
fi

ensure_binaries() {
    if [[ -z "$SPARKIFY_PG_BIN" || ! -x "$SPARKIFY_PG_BIN/initdb" ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            log "PostgreSQL binaries not found; install them: sudo apt-get install -y postgresql"
            exit 1
        fi
        log "installing PostgreSQL (apt-get install -y postgresql)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null \
            || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null; }
        SPARKIFY_PG_BIN="$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)"
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        log "the postgres OS user is missing"; exit 1
    fi
}

pg_ctl_() { as_pg "$SPARKIFY_PG_BIN/pg_ctl" -D "$SPARKIFY_PGDATA" "$@"; }

is_running() {
    [[ -f "$SPARKIFY_PGDATA/postmaster.pid" ]] && pg_ctl_ status >/dev/null 2>&1
}

# psql as the cluster's superuser over the unix socket (peer auth).
admin_psql() {
    as_pg "$SPARKIFY_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SPARKIFY_PG_SOCKET_DIR" \
        -p "$SPARKIFY_PG_PORT" -U "$PG_OS_USER" -d postgres "$@"
}

init_cluster() {
    log "initdb $SPARKIFY_PGDATA"
    mkdir -p "$SPARKIFY_PG_ROOT"
    chmod 700 "$SPARKIFY_PG_ROOT"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$SPARKIFY_PG_ROOT"; fi
    as_pg "$SPARKIFY_PG_BIN/initdb" -D "$SPARKIFY_PGDATA" -U "$PG_OS_USER" -E UTF8 \
        --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    as_pg tee -a "$SPARKIFY_PGDATA/postgresql.conf" >/dev/null <<EOF

# --- sparkify local stack ---
listen_addresses = '127.0.0.1'
port = $SPARKIFY_PG_PORT
unix_socket_directories = '$SPARKIFY_PG_SOCKET_DIR'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = off
logging_collector = off
EOF
    # Only the admin over the socket (peer), everyone else over TCP on loopback with a password.
    as_pg tee "$SPARKIFY_PGDATA/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER            ADDRESS        METHOD
local   all       $PG_OS_USER     peer
host    all       all             127.0.0.1/32   scram-sha-256
EOF
}

ensure_roles() {
    # Password through stdin into a psql variable (:'pw' quotes it): never in argv or logs.
    admin_psql -v usr="$SPARKIFY_PG_USER" <<SQL
\set pw '$SPARKIFY_PG_PASSWORD'
SELECT format('CREATE ROLE %I LOGIN', :'usr')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'usr') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'usr', :'pw') \gexec
SQL
    # JIT off in every database: its compile time (tens of ms) is paid by short statements whose
    # estimated cost grows with the table (the catalogue models, metadata queries), so it made
    # per-partition work grow with table size although the work itself did not.
    local db
    for db in "$SPARKIFY_PG_DB" airflow "$SPARKIFY_PG_TEST_DB"; do
        admin_psql -v db="$db" -v usr="$SPARKIFY_PG_USER" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'usr')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I SET jit = off', :'db') \gexec
SQL
    done
}

start() {
    ensure_binaries
    if [[ ! -f "$SPARKIFY_PGDATA/PG_VERSION" ]]; then init_cluster; fi
    mkdir -p "$SPARKIFY_LOGS"
    if is_running; then
        log "already running on $SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT ($SPARKIFY_PGDATA)"
    else
        # Server log inside the data dir (writable by the postgres user), linked from the state dir.
        pg_ctl_ start -w -t 60 -l "$SPARKIFY_PGDATA/server.log" >/dev/null \
            || { log "start failed; tail of $SPARKIFY_PGDATA/server.log:"; tail -n 20 "$SPARKIFY_PGDATA/server.log" >&2; exit 1; }
        ln -sfn "$SPARKIFY_PGDATA/server.log" "$SPARKIFY_LOGS/postgres.log"
    fi
    for _ in $(seq 1 60); do
        "$SPARKIFY_PG_BIN/pg_isready" -q -h "$SPARKIFY_PG_HOST" -p "$SPARKIFY_PG_PORT" && break
        sleep 0.5
    done
    "$SPARKIFY_PG_BIN/pg_isready" -q -h "$SPARKIFY_PG_HOST" -p "$SPARKIFY_PG_PORT" \
        || { log "not ready after 30 s"; exit 1; }
    ensure_roles
    log "ready: $SPARKIFY_WAREHOUSE_URL_MASKED"
}

stop() {
    if [[ -n "$SPARKIFY_PG_BIN" && -f "$SPARKIFY_PGDATA/postmaster.pid" ]] && is_running; then
        pg_ctl_ stop -m fast -w -t 60 >/dev/null
        log "stopped ($SPARKIFY_PGDATA)"
    else
        log "not running ($SPARKIFY_PGDATA)"
    fi
}

status() {
    if [[ -n "$SPARKIFY_PG_BIN" ]] && is_running; then
        echo "postgres running on $SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT, data $SPARKIFY_PGDATA"
    else
        echo "postgres not running (data $SPARKIFY_PGDATA)"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    psql)
        shift
        PGPASSWORD="$SPARKIFY_PG_PASSWORD" exec "$SPARKIFY_PG_BIN/psql" -X \
            -h "$SPARKIFY_PG_HOST" -p "$SPARKIFY_PG_PORT" -U "$SPARKIFY_PG_USER" -d "${SPARKIFY_PSQL_DB:-$SPARKIFY_PG_DB}" "$@"
        ;;
    *) echo "usage: $0 start|stop|status|psql [psql args]" >&2; exit 2 ;;
esac
