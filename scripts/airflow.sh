#!/usr/bin/env bash
# Airflow components of the local Sparkify stack, as separate processes (not `airflow standalone`).
#
#   scripts/airflow.sh start    db migrate, then api-server, scheduler, dag-processor, triggerer;
#                               waits until /api/v2/monitor/health reports all healthy
#   scripts/airflow.sh stop     TERM each process group (by PID file), wait, then KILL
#   scripts/airflow.sh recover  after a metadata-DB outage: start whatever exited (or is exiting)
#                               until every component heartbeats again after the call
#   scripts/airflow.sh status   exit 0 if all four run (and the Celery workers), 3 otherwise
#
# SPARKIFY_EXECUTOR=celery (env.sh; default local = LocalExecutor in the scheduler): the
# CeleryExecutor, plus $SPARKIFY_CELERY_WORKERS `airflow celery worker` processes (celery-worker-1,
# …), each started from its own folder outside the repo with its own copy of the code and an
# environment built from nothing (see start_worker). Redis (scripts/redis.sh start) and the local
# S3 server (scripts/s3.sh start: the source and the task logs) must then be running too.
#
# Each component runs in its own session (setsid): PID = process group id. Logs go to
# $SPARKIFY_STATE/logs/<component>.log, PID files to $SPARKIFY_STATE/pids/<component>.pid.
# Postgres must be running (scripts/postgres.sh start). Configuration: scripts/env.sh.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

COMPONENTS=(api-server scheduler dag-processor triggerer)
WORKERS=()
if [[ "$SPARKIFY_EXECUTOR" == celery ]]; then
    for ((i = 1; i <= SPARKIFY_CELERY_WORKERS; i++)); do WORKERS+=("celery-worker-$i"); done
fi
START_TIMEOUT="${SPARKIFY_AIRFLOW_START_TIMEOUT:-180}"
STOP_TIMEOUT="${SPARKIFY_AIRFLOW_STOP_TIMEOUT:-30}"

log() { printf '[airflow] %s\n' "$*" >&2; }

pid_file() { echo "$SPARKIFY_PIDS/$1.pid"; }

# group_alive PGID: true while the group has a member that is not a zombie (a zombie leader still
# answers kill -0 until its new parent reaps it, which some container inits never do).
# shellcheck source=scripts/process_group.sh
. "$(dirname "${BASH_SOURCE[0]}")/process_group.sh"

# True while PID $1 is alive and an airflow process (not a PID reused by something else).
is_airflow_process() {
    kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q airflow
}

# PID of a running component, or nothing. Guards against stale PID files and reused PIDs.
running_pid() {
    local f pid
    f="$(pid_file "$1")"
    [[ -s "$f" ]] || return 1
    pid="$(<"$f")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    if is_airflow_process "$pid"; then
        echo "$pid"
    elif group_alive "$pid"; then
        # Leader gone but its process group lives on (children still exiting): still "running".
        echo "$pid"
    else
        return 1
    fi
}

# PID of a component whose leader process is alive (running_pid also counts an exiting group).
leader_pid() {
    local pid
    pid="$(running_pid "$1")" || return 1
    is_airflow_process "$pid" && echo "$pid"
}

start_component() {
    local name="$1" pid
    if pid="$(leader_pid "$name")"; then
        log "$name already running (pid $pid)"
        return 0
    fi
    if pid="$(running_pid "$name")"; then
        # The leader exited (e.g. the scheduler after losing its metadata DB) but its children are
        # still winding down: let them finish, then start a fresh one instead of trusting a corpse.
        log "$name is exiting (process group $pid): waiting for it before starting again"
        stop_components "$name"
    fi
    local -a cmd=(airflow "$name")
    # api-server: host/port come from AIRFLOW__API__HOST/PORT (env.sh).
    # scheduler/triggerer: no log server. It would listen on 0.0.0.0, and on one machine the
    # api-server reads task and trigger logs straight from $AIRFLOW_HOME/logs.
    case "$name" in scheduler | triggerer) cmd+=(--skip-serve-logs) ;; esac
    # setsid without -f: a background child of a non-interactive shell is not a group leader,
    # so setsid execs in place and $! is the new session's (and process group's) id.
    setsid "${cmd[@]}" >>"$SPARKIFY_LOGS/$name.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$(pid_file "$name")"
    log "$name started (pid $pid, log $SPARKIFY_LOGS/$name.log)"
}

# Celery workers as if on their own machines. $SPARKIFY_CELERY_ROOT/<name>/ holds a worker's image
# (home/: a copy of the DAGs, plugins, sql/ and config.json the stack's components use, what the
# Helm image bakes in; sparkify_stack.celery_stack prepare-home), its AIRFLOW_HOME and task logs;
# it starts there with SPARKIFY_HOME=home and an environment emptied down to the Airflow settings,
# the connections (on Kubernetes: the chart's config and secrets) and SPARKIFY_SOURCE. So no path
# into the repo or the state dir reaches it: a task that read the repo's data folder (home/ has
# none: a folder source resolves to a path that does not exist), .state, a config or SQL file at
# the scheduler's path, or a secret file, fails. Copied at start, like an image at deploy: restart
# the workers after changing the code or the config.
start_workers() {
    local name pid
    local -a starting=() homes=()
    for name in "$@"; do
        if pid="$(leader_pid "$name")"; then
            log "$name already running (pid $pid)"
        else
            if running_pid "$name" >/dev/null; then stop_components "$name"; fi
            starting+=("$name")
            homes+=("$SPARKIFY_CELERY_ROOT/$name/home")
        fi
    done
    ((${#starting[@]})) || return 0
    python -m sparkify_stack.celery_stack prepare-home "${homes[@]}" \
        || { log "could not prepare the workers' copies of the project"; exit 1; }
    for name in "${starting[@]}"; do start_worker "$name"; done
}

start_worker() {
    local name="$1" dir="$SPARKIFY_CELERY_ROOT/$1" pid
    mkdir -p "$dir/airflow"
    exec_worker "$name" "$dir" >>"$SPARKIFY_LOGS/$name.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$(pid_file "$name")"
    log "$name started (pid $pid, folder $dir, log $SPARKIFY_LOGS/$name.log)"
}

# Run in the background subshell start_worker forks: empty the environment, then exec the worker
# (setsid execs in place, so the subshell's PID is the worker's and its process group's).
exec_worker() {
    local name="$1" dir="$2" venv="$SPARKIFY_VENV" var
    cd "$dir"
    # Unset, not `env -i NAME=value`: values in argv would show the secrets to ps.
    for var in $(compgen -e); do
        case "$var" in
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE) unset "$var" ;;  # a secrets-dir path; UI only
            AIRFLOW__* | AIRFLOW_CONN_* | SPARKIFY_SOURCE) ;;
            *) unset "$var" 2>/dev/null || true ;;
        esac
    done
    export PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" HOME="$dir" LANG=C.UTF-8 \
        AIRFLOW_HOME="$dir/airflow" SPARKIFY_HOME="$dir/home" PYTHONPATH="$dir/home/plugins" \
        AIRFLOW__CORE__DAGS_FOLDER="$dir/home/dags" AIRFLOW__CORE__PLUGINS_FOLDER="$dir/home/plugins"
    # What the worker was given, by name only (values may be secrets): tests/scale_out reads it.
    compgen -e >"$dir/environment"
    # --skip-serve-logs: the task logs go to S3 (remote logging, env.sh), where the api-server reads
    # them; two log servers on one host would also need two ports.
    exec setsid airflow celery worker --celery-hostname "$name@%h" --skip-serve-logs \
        --concurrency "$AIRFLOW__CELERY__WORKER_CONCURRENCY"
}

# Workers with a PID file, whatever SPARKIFY_EXECUTOR says now: `stop` stops what `start` started.
started_workers() {
    local f
    for f in "$SPARKIFY_PIDS"/celery-worker-*.pid; do
        [[ -e "$f" ]] && basename "$f" .pid
    done
    return 0
}

# Stop components: TERM every process group at once, wait up to STOP_TIMEOUT, then KILL.
stop_components() {
    local name pid i alive
    local -a pids=()
    for name in "$@"; do
        if pid="$(running_pid "$name")"; then
            kill -TERM -- "-$pid" 2>/dev/null || true
            pids+=("$pid")
            log "$name: TERM process group $pid"
        fi
    done
    for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
        alive=0
        for pid in "${pids[@]}"; do group_alive "$pid" && alive=1; done
        ((alive)) || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        if group_alive "$pid"; then
            log "process group $pid still alive after ${STOP_TIMEOUT}s: KILL"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    done
    for name in "$@"; do rm -f "$(pid_file "$name")"; done
}

start() {
    mkdir -p "$SPARKIFY_LOGS" "$SPARKIFY_PIDS" "$AIRFLOW_HOME"
    if ! "$REPO/scripts/postgres.sh" status >/dev/null; then
        log "postgres is not running: run scripts/postgres.sh start first"
        exit 1
    fi
    if ((${#WORKERS[@]})); then
        "$REPO/scripts/redis.sh" status >/dev/null \
            || { log "redis (the Celery broker) is not running: run scripts/redis.sh start first"; exit 1; }
        "$REPO/scripts/s3.sh" status >/dev/null \
            || { log "the S3 server (source and task logs) is not running: run scripts/s3.sh start first"; exit 1; }
        python -m sparkify_stack.celery_stack ensure-log-bucket >/dev/null
    fi
    local all_running=1 any_running=0 name started_as
    for name in "${COMPONENTS[@]}" "${WORKERS[@]}"; do leader_pid "$name" >/dev/null || all_running=0; done
    for name in "${COMPONENTS[@]}"; do running_pid "$name" >/dev/null && any_running=1; done
    # A scheduler runs one executor: components started for the other one are stopped first.
    started_as="$(cat "$SPARKIFY_STATE/airflow.executor" 2>/dev/null || echo local)"
    if ((any_running)) && [[ "$started_as" != "$SPARKIFY_EXECUTOR" ]]; then
        log "running with SPARKIFY_EXECUTOR=$started_as, not $SPARKIFY_EXECUTOR: run scripts/airflow.sh stop first"
        exit 1
    fi
    echo "$SPARKIFY_EXECUTOR" >"$SPARKIFY_STATE/airflow.executor"
    if ((all_running)); then
        log "already running"
    else
        log "airflow db migrate (log $SPARKIFY_LOGS/db-migrate.log)"
        if ! airflow db migrate >"$SPARKIFY_LOGS/db-migrate.log" 2>&1; then
            tail -n 30 "$SPARKIFY_LOGS/db-migrate.log" >&2
            log "db migrate failed"
            exit 1
        fi
        for name in "${COMPONENTS[@]}"; do start_component "$name"; done
        start_workers "${WORKERS[@]}"
    fi
    # Pool of the tasks that write to the warehouse (pool="warehouse" in the DAGs): caps concurrent
    # warehouse writes across both DAGs. Set on every start (also of a running stack): tasks in a
    # missing pool are never scheduled.
    if ! airflow pools set warehouse "$SPARKIFY_WAREHOUSE_POOL_SLOTS" \
        "Sparkify: concurrent warehouse writes (stage_*, load_fact, load_dimension)" \
        >"$SPARKIFY_LOGS/pools.log" 2>&1; then
        tail -n 20 "$SPARKIFY_LOGS/pools.log" >&2
        log "airflow pools set warehouse failed"
        exit 1
    fi
    log "waiting for $SPARKIFY_AIRFLOW_URL/api/v2/monitor/health (up to ${START_TIMEOUT}s)"
    if ! python -m sparkify_stack.airflow_api wait-healthy --timeout "$START_TIMEOUT" >/dev/null; then
        for name in "${COMPONENTS[@]}"; do
            running_pid "$name" >/dev/null || log "$name is not running; tail of its log:"
            running_pid "$name" >/dev/null || tail -n 20 "$SPARKIFY_LOGS/$name.log" >&2
        done
        log "Airflow did not become healthy"
        exit 1
    fi
    if ((${#WORKERS[@]})) && ! python -m sparkify_stack.celery_stack wait-workers "${WORKERS[@]}" \
        --timeout "$START_TIMEOUT" >/dev/null; then
        for name in "${WORKERS[@]}"; do
            log "$name: tail of its log:"; tail -n 20 "$SPARKIFY_LOGS/$name.log" >&2
        done
        log "the Celery workers did not all answer a ping"
        exit 1
    fi
    log "healthy: UI $AIRFLOW__API__BASE_URL (user $SPARKIFY_ADMIN_USER, password in $AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE)"
}

# A scheduler that lost its database can still look alive (and report its last heartbeat as
# healthy) for a while before it exits. Keep starting exited components until each one has
# written a heartbeat after this call: that proves it survived the outage or was restarted.
recover() {
    local since deadline
    since="$(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
    deadline=$((SECONDS + 2 * START_TIMEOUT))
    while ((SECONDS < deadline)); do
        # In a subshell with a short health wait: start exits when the stack is not healthy, e.g.
        # when a scheduler that still looked alive (exiting after the outage) dies during its wait;
        # the next pass starts it again.
        (START_TIMEOUT=45 start) || log "not healthy yet after a start pass"
        if python -m sparkify_stack.airflow_api wait-healthy --since "$since" --timeout 45 >/dev/null 2>&1; then
            log "recovered: every component heartbeats after $since"
            return 0
        fi
        # A component silent since the outage but still a process (a scheduler that left its loop
        # and lingers): stop it, so the next pass starts it.
        local name
        while read -r name; do
            if [[ -n "$name" ]] && leader_pid "$name" >/dev/null; then
                log "no heartbeat from $name since $since, yet it still runs: stopping it"
                stop_components "$name"
            fi
        done < <(python -m sparkify_stack.airflow_api stale --since "$since" --grace 60 2>/dev/null || true)
        log "not every component heartbeats after $since yet: checking again"
    done
    log "Airflow did not recover within $((2 * START_TIMEOUT))s"
    status || true
    exit 1
}

stop() {
    mkdir -p "$SPARKIFY_PIDS"
    local -a workers
    mapfile -t workers < <(started_workers)
    stop_components "${COMPONENTS[@]}" "${workers[@]}"
    log "stopped"
}

status() {
    local name pid rc=0
    for name in "${COMPONENTS[@]}" "${WORKERS[@]}"; do
        if pid="$(running_pid "$name")"; then
            echo "$name running (pid $pid)"
        else
            echo "$name not running"
            rc=3
        fi
    done
    return "$rc"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    recover) recover ;;
    *) echo "usage: $0 start|stop|status|recover" >&2; exit 2 ;;
esac
