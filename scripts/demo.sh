#!/usr/bin/env bash
# make demo: the pipeline end to end on the local stack (demo state dir, Postgres 55432, Airflow 8080).
#
#   START=2018-11-01 END=2018-11-30   partition range (inclusive)
#   DEMO_TIMEOUT=2400                 seconds to wait for the runs (then exit 2)
#   SPARKIFY_SOURCE=/some/folder      load that folder (song_data/, log_data/YYYY/MM/...) instead
#                                     of generating sample data
#   SPARKIFY_SOURCE=s3://bucket/pfx   load that bucket through connection aws_default (exported
#                                     AIRFLOW_CONN_AWS_DEFAULT, else the local S3 server)
# Default: generated data uploaded to the local S3 server (scripts/s3.sh) and read from
# s3://sparkify/generated.
# Services stay up afterwards for browsing the UI; `make down` stops them.
#
# Output: stderr has only `[demo] …` progress lines (this script's and scripts/demo_summary.py's),
# stdout only the summary. Everything the steps print themselves (the Airflow CLI's structured
# log lines, the service scripts' details) goes to $SPARKIFY_LOGS/demo.log; a failing step prints
# its tail. Exit code: the summary's (0 all runs succeeded, 1 a run failed, 2 timeout), or the
# failing step's.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
make -s venv
# shellcheck source=scripts/env.sh
. scripts/env.sh

START="${START:-2018-11-01}"
END="${END:-2018-11-30}"
STAGING_DAG=sparkify_staging
TRANSFORM_DAG=sparkify_transform
ROLLUP_DAG=sparkify_rollups
t0=$(date +%s)
say() { printf '[demo] %s\n' "$*" >&2; }

DEMO_LOG="$SPARKIFY_LOGS/demo.log"
mkdir -p "$SPARKIFY_LOGS"
: >"$DEMO_LOG"
say "details of every step: $DEMO_LOG"

# step MESSAGE COMMAND...: say MESSAGE, run COMMAND with all its output appended to $DEMO_LOG.
# On failure: say so with the log's last lines and return COMMAND's exit code (set -e then exits
# with it), so a person reads the project's progress, and the details are one file away.
step() {
    local message="$1" rc=0
    shift
    say "$message"
    printf '\n=== %s  %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$DEMO_LOG"
    "$@" >>"$DEMO_LOG" 2>&1 </dev/null || rc=$?
    if ((rc != 0)); then
        say "FAILED (exit $rc): $*; last lines of $DEMO_LOG:"
        tail -n 20 "$DEMO_LOG" | sed 's/^/[demo]   /' >&2
    fi
    return "$rc"
}

step "starting PostgreSQL on $SPARKIFY_PG_HOST:$SPARKIFY_PG_PORT (data $SPARKIFY_PGDATA)" scripts/postgres.sh start

if [[ -z "${SPARKIFY_SOURCE:-}" ]]; then
    # Default: the generated data served by the local S3 server, read over the S3 API exactly
    # as production reads its bucket (connection aws_default: endpoint_url, path-style, SigV4).
    step "generating sample data $START..$END into $SPARKIFY_STATE/data" \
        python scripts/generate_data.py --out "$SPARKIFY_STATE/data" --start "$START" --end "$END"
    step "starting the local S3 server ($SPARKIFY_S3_ENDPOINT)" scripts/s3.sh start
    SPARKIFY_SOURCE="s3://$SPARKIFY_S3_BUCKET/generated"
    step "uploading the sample data to $SPARKIFY_SOURCE" python scripts/s3_upload.py "$SPARKIFY_STATE/data" "$SPARKIFY_SOURCE"
elif [[ "$SPARKIFY_SOURCE" == s3://* ]]; then
    # Any S3-compatible store: the caller's AIRFLOW_CONN_AWS_DEFAULT, else the local server.
    if [[ "${SPARKIFY_AWS_CONN_MANAGED:-}" == 1 ]]; then
        step "starting the local S3 server ($SPARKIFY_S3_ENDPOINT)" scripts/s3.sh start
    fi
else
    SPARKIFY_SOURCE="$(cd "$SPARKIFY_SOURCE" && pwd)"
fi
export SPARKIFY_SOURCE
say "source: $SPARKIFY_SOURCE"

# The Airflow processes read SPARKIFY_SOURCE from their environment at start. If they are
# already running with another source, restart them.
if scripts/airflow.sh status >/dev/null 2>&1 \
    && [[ "$(cat "$SPARKIFY_STATE/airflow.source" 2>/dev/null)" != "$SPARKIFY_SOURCE" ]]; then
    step "source changed: stopping Airflow to restart it" scripts/airflow.sh stop
fi
step "starting Airflow (api-server, scheduler, dag-processor, triggerer; logs in $SPARKIFY_LOGS)" scripts/airflow.sh start
printf '%s\n' "$SPARKIFY_SOURCE" >"$SPARKIFY_STATE/airflow.source"

step "waiting for the DAGs to be parsed" \
    python -m sparkify_stack.airflow_api wait-dag "$ROLLUP_DAG" "$TRANSFORM_DAG" "$STAGING_DAG" --timeout 180
# Consumer first, so no asset event arrives while it is paused.
step "unpausing $ROLLUP_DAG, $TRANSFORM_DAG, $STAGING_DAG" \
    python -m sparkify_stack.airflow_api unpause "$ROLLUP_DAG" "$TRANSFORM_DAG" "$STAGING_DAG"

# Airflow allows one backfill per DAG at a time and marks a finished one complete only every
# 30 s: wait for an earlier `make demo`'s backfill (finished or interrupted) before creating ours.
python scripts/demo_summary.py --wait-backfill-idle --timeout "${DEMO_TIMEOUT:-2400}"
# The CLI logs two structured lines per run it creates (60 for a month): into the log.
step "backfill $STAGING_DAG $START..$END (airflow backfill create)" \
    airflow backfill create --dag-id "$STAGING_DAG" --from-date "$START" --to-date "$END" \
    --max-active-runs "${MAX_ACTIVE_RUNS:-4}" --reprocess-behavior "${REPROCESS:-completed}"

# Wait for every backfill run and the asset-triggered transform run of each of its partitions,
# then print the summary. Exit 0 only if all of them succeeded (1: a run failed, 2: timeout).
rc=0
python scripts/demo_summary.py --start "$START" --end "$END" --t0 "$t0" --timeout "${DEMO_TIMEOUT:-2400}" || rc=$?
say "done in $(($(date +%s) - t0)) s (exit $rc); details in $DEMO_LOG; services stay up for the UI until \`make down\`"
exit "$rc"
