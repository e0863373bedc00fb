#!/usr/bin/env bash
# make clean: stop every stack of this checkout and delete what they keep on disk.
#
# A stack is a state dir directly under $REPO/.state (demo, test, bench, …). For each one:
#   1. stop Airflow, PostgreSQL, the S3 server and Redis by PID (as `make down` does);
#   2. if anything of any stack still runs, refuse: remove nothing, exit 1;
#   3. remove the state dir (Airflow home, logs, secrets, generated data, S3 data) and the
#      PostgreSQL root that scripts/env.sh derives from it: /var/tmp/sparkify-<hash of the
#      state dir's path> (outside the repo: the postgres OS user may not be able to read it).
# Nothing else is touched: not a PostgreSQL root chosen with SPARKIFY_PG_ROOT, not a state dir
# chosen with SPARKIFY_STATE / SPARKIFY_TEST_STATE outside .state, not another checkout's.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
STATE_ROOT="$REPO/.state"

log() { printf '[clean] %s\n' "$*" >&2; }

# on STATE_DIR COMMAND...: run COMMAND with the stack environment of STATE_DIR alone, ignoring
# locations exported for another stack or chosen by hand (env.sh then derives every path).
on() {
    local dir="$1"
    shift
    env -u SPARKIFY_PG_ROOT -u SPARKIFY_PGDATA -u AIRFLOW_HOME -u SPARKIFY_ENV_KEY -u SPARKIFY_PIDS \
        -u SPARKIFY_LOGS -u SPARKIFY_SECRETS SPARKIFY_STATE="$dir" "$@"
}

# The PostgreSQL root scripts/env.sh derives for STATE_DIR (one definition: env.sh's).
pg_root_of() {
    # shellcheck disable=SC2016 # expanded by the inner shell, after it sourced env.sh
    on "$1" bash -c '. scripts/env.sh >/dev/null && printf "%s\n" "$SPARKIFY_PG_ROOT"'
}

# What of STATE_DIR's stack still runs: one "<component> running …" line each (none: nothing).
running() {
    local script
    for script in airflow postgres s3 redis; do
        on "$1" "scripts/$script.sh" status 2>/dev/null | grep -E '^[a-z0-9-]+ running' || true
    done
}

# rm -rf PATH, only when PATH is a real directory (a symlink could point anywhere).
remove_dir() {
    if [[ -L "$1" || ! -d "$1" ]]; then
        log "skipped $1: not a directory"
        return 0
    fi
    rm -rf -- "$1"
    log "removed $1"
}

stacks=()
if [[ -d "$STATE_ROOT" && ! -L "$STATE_ROOT" ]]; then
    for dir in "$STATE_ROOT"/*/; do
        [[ -d "$dir" && ! -L "${dir%/}" ]] && stacks+=("${dir%/}")
    done
fi
if ((${#stacks[@]} == 0)); then
    log "nothing to clean: no state dir under $STATE_ROOT"
    exit 0
fi

for dir in "${stacks[@]}"; do
    log "stopping the stack of $dir"
    on "$dir" scripts/airflow.sh stop >/dev/null 2>&1 || true
    on "$dir" scripts/postgres.sh stop >/dev/null 2>&1 || true
    on "$dir" scripts/s3.sh stop >/dev/null 2>&1 || true
    on "$dir" scripts/redis.sh stop >/dev/null 2>&1 || true
done

still=""
for dir in "${stacks[@]}"; do
    what="$(running "$dir")"
    if [[ -n "$what" ]]; then still+="$dir: ${what//$'\n'/; }"$'\n'; fi
done
if [[ -n "$still" ]]; then
    log "refusing to delete anything: still running after stopping:"
    printf '%s' "$still" | sed 's/^/[clean]   /' >&2
    exit 1
fi

for dir in "${stacks[@]}"; do
    root="$(pg_root_of "$dir")"
    # Only the shape env.sh derives (/var/tmp/sparkify-<10 hex>), never anything else.
    if [[ "$root" =~ ^/var/tmp/sparkify-[0-9a-f]{10}$ ]]; then
        if [[ -e "$root" ]]; then remove_dir "$root"; fi
    else
        log "left $root alone: not a PostgreSQL root derived from a state dir"
    fi
    remove_dir "$dir"
done
rmdir "$STATE_ROOT" 2>/dev/null || true
log "clean: ${#stacks[@]} stack(s) stopped and removed"
