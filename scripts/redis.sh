#!/usr/bin/env bash
# Redis of the Sparkify stack: the Celery broker of the scale-out stack (SPARKIFY_EXECUTOR=celery).
#
#   scripts/redis.sh start    start (no-op if running), wait until it answers PING
#   scripts/redis.sh stop     TERM by PID file (Redis flushes its append-only file), wait, then KILL
#   scripts/redis.sh status   exit 0 if running (prints where), 3 if not
#   scripts/redis.sh cli [redis-cli args]   redis-cli on the stack's Redis (password from the env)
#
# The Debian package's redis-server binary (apt-get install -y redis-server when missing and run
# as root), run directly: never the distribution's service, which would own port 6379. Binds
# 127.0.0.1:$SPARKIFY_REDIS_PORT only, protected mode on; the password is generated once by env.sh
# into $SPARKIFY_SECRETS/redis_password and reaches the server through its config file (mode 600,
# in the secrets dir) and redis-cli through REDISCLI_AUTH: never argv, never a log. Data (the
# append-only file: queued task messages survive a restart) in $SPARKIFY_STATE/redis/data.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

REDIS_DIR="$SPARKIFY_STATE/redis"
REDIS_DATA="$REDIS_DIR/data"
REDIS_CONFIG="$SPARKIFY_SECRETS/redis.conf"
PID_FILE="$SPARKIFY_PIDS/redis.pid"
LOG_FILE="$SPARKIFY_LOGS/redis.log"
START_TIMEOUT="${SPARKIFY_REDIS_START_TIMEOUT:-30}"
STOP_TIMEOUT="${SPARKIFY_REDIS_STOP_TIMEOUT:-20}"
REDIS_SERVER="${SPARKIFY_REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}"
REDIS_CLI="${SPARKIFY_REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}"

log() { printf '[redis] %s\n' "$*" >&2; }

# shellcheck source=scripts/process_group.sh
. "$(dirname "${BASH_SOURCE[0]}")/process_group.sh"

running_pid() { owned_pid redis-server; }

cli() { REDISCLI_AUTH="$SPARKIFY_REDIS_PASSWORD" "$REDIS_CLI" -h "$SPARKIFY_REDIS_HOST" -p "$SPARKIFY_REDIS_PORT" "$@"; }
answering() { [[ "$(cli ping 2>/dev/null)" == PONG ]]; }
# Something listens on the port (bash's /dev/tcp), whoever it is.
port_taken() { (exec 3<>"/dev/tcp/$SPARKIFY_REDIS_HOST/$SPARKIFY_REDIS_PORT") 2>/dev/null; }

ensure_binaries() {
    [[ -x "$REDIS_SERVER" && -x "$REDIS_CLI" ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        log "redis-server not found; install it: sudo apt-get install -y redis-server"; exit 1
    fi
    log "installing Redis (apt-get install -y redis-server)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >/dev/null \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >/dev/null; }
    REDIS_SERVER=/usr/bin/redis-server REDIS_CLI=/usr/bin/redis-cli
}

write_config() {
    # Written from the shell's memory (a here-document, not argv); mode 600 via umask.
    (umask 077 && cat >"$REDIS_CONFIG.tmp" <<CONF && mv -f "$REDIS_CONFIG.tmp" "$REDIS_CONFIG")
# Written by scripts/redis.sh on every start; edit that script, not this file.
bind $SPARKIFY_REDIS_HOST
protected-mode yes
port $SPARKIFY_REDIS_PORT
daemonize no
logfile ""
dir $REDIS_DATA
save ""
appendonly yes
appendfsync everysec
requirepass $SPARKIFY_REDIS_PASSWORD
CONF
}

start() {
    local pid i
    mkdir -p "$REDIS_DATA" "$SPARKIFY_LOGS" "$SPARKIFY_PIDS"
    if pid="$(running_pid)"; then
        log "already running (pid $pid) on $SPARKIFY_REDIS_HOST:$SPARKIFY_REDIS_PORT"
        return 0
    fi
    ensure_binaries
    if port_taken; then
        log "port $SPARKIFY_REDIS_PORT already answers but no Redis of this stack runs: set SPARKIFY_REDIS_PORT"; exit 1
    fi
    write_config
    # setsid: its own session, so the PID is the process group stop signals.
    setsid "$REDIS_SERVER" "$REDIS_CONFIG" >>"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    for ((i = 0; i < START_TIMEOUT * 4; i++)); do
        answering && break
        exited_with_log "$pid" redis-server && exit 1
        sleep 0.25
    done
    answering || { log "not answering after ${START_TIMEOUT}s (log $LOG_FILE)"; stop; exit 1; }
    log "ready: redis://:***@$SPARKIFY_REDIS_HOST:$SPARKIFY_REDIS_PORT (pid $pid, data $REDIS_DATA, log $LOG_FILE)"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    stop_group "$pid" "$STOP_TIMEOUT"
}

status() {
    local pid
    if pid="$(running_pid)"; then
        echo "redis running on $SPARKIFY_REDIS_HOST:$SPARKIFY_REDIS_PORT (pid $pid, data $REDIS_DATA)"
    else
        echo "redis not running (data $REDIS_DATA)"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    cli) shift; cli "$@" ;;
    *) echo "usage: $0 start|stop|status|cli [redis-cli args]" >&2; exit 2 ;;
esac
