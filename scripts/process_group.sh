# Sourced by the scripts that run servers in their own sessions (scripts/s3.sh, scripts/redis.sh,
# and group_alive for scripts/airflow.sh): a PID in their PID files is a process group leader, and
# only that group is ever signalled. owned_pid, stop_group and exited_with_log need log() and the
# caller's PID_FILE (and LOG_FILE).
# shellcheck shell=bash

# Non-zombie members: ps, not pgrep (SC2009), which cannot filter by state (the state is the point:
# a zombie leader still answers kill -0 until its new parent reaps it).
# shellcheck disable=SC2009
group_alive() { ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'; }
# The process itself (right after the fork it has not called setsid yet, so no group to ask for).
pid_alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }

# owned_pid PATTERN: the PID file's process when it is alive and its command line matches PATTERN
# (not a PID reused by something else), or while its group lives on (children still exiting).
owned_pid() {
    local pid
    [[ -s "$PID_FILE" ]] || return 1
    pid="$(<"$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1"; then
        echo "$pid"
    elif group_alive "$pid"; then
        echo "$pid"
    else
        return 1
    fi
}

# stop_group PID STOP_TIMEOUT: TERM the group, KILL what is left after STOP_TIMEOUT seconds, forget the PID file.
stop_group() {
    local pid="$1" timeout="$2" i
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 5; i++)); do
        group_alive "$pid" || break
        sleep 0.2
    done
    if group_alive "$pid"; then
        log "process group $pid still alive after ${timeout}s: KILL"
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    log "stopped (pid $pid)"
}

# exited_with_log PID NAME: true (after printing NAME's log tail and forgetting the PID file) when
# the started server and its group are gone.
exited_with_log() {
    if ! pid_alive "$1" && ! group_alive "$1"; then
        log "$2 exited; tail of $LOG_FILE:"
        tail -n 20 "$LOG_FILE" >&2
        rm -f "$PID_FILE"
        return 0
    fi
    return 1
}
