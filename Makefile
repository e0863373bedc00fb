# Sparkify pipeline — local stack. `make demo`, `make test`, `make down`, `make psql ARGS=...`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV_VERSION := $(shell sed -n "s/^uv==//p" requirements-dev.txt)
STAMP := $(VENV)/.requirements.stamp
ARGS ?=

.PHONY: help venv lock check-runtime-lock demo test scale-out mutants down clean psql lint backfill status bench bench-airflow bench-hostile bench-demo bench-year bench-floor

help:
	@echo "make demo   backfill the sample month on the local stack and print a summary"
	@echo "make test   run the test suite (ARGS=... is passed to pytest)"
	@echo "make scale-out   staging + transform backfill on the CeleryExecutor (Redis, 2 workers) = the in-process load"
	@echo "make mutants   break each data rule on purpose; fails if its tests still pass (before a release)"
	@echo "make down   stop Airflow, Postgres, S3 and Redis of the demo, test and scale-out stacks"
	@echo "make clean  stop every stack of this checkout, then delete .state/* and their PostgreSQL data (/var/tmp/sparkify-<hash>)"
	@echo "make psql   psql on the demo warehouse (ARGS='-c \"select 1\"')"
	@echo "make backfill DAG=staging|transform START=YYYY-MM-DD END=YYYY-MM-DD [MODE=trigger|clear]; DAG=rollups START=YYYY-MM END=YYYY-MM"
	@echo "make status [START=… END=…]   per partition: staged, rejected, runs, failed checks"
	@echo "make lint   ruff (AIR rules incl. preview), sqlfluff on sql/, shellcheck on the shell scripts, lock drift"
	@echo "make lock   recompile requirements.txt (runtime) and requirements-dev.txt from pyproject.toml (scripts/lock.sh)"
	@echo "make check-runtime-lock   a fresh venv from requirements.txt alone imports the DAGs (no dev packages)"
	@echo "make bench-airflow   orchestration overhead of a 30-partition staging backfill, before/after tuning"
	@echo "make bench-year   365 days through the real scheduler, both DAGs, default settings (bench/RESULTS-year.md)"
	@echo "make bench-hostile   peak RSS staging ~1 GB of garbage lines and of blank lines (bench/RESULTS-hostile.md)"
	@echo "make bench-floor   what a task instance that does nothing costs on the same stack (bench/RESULTS-floor.md)"
	@echo "make bench-demo   make demo timed: cold (stack stopped) and warm (services up; target 90 s) (bench/RESULTS-demo.md)"

venv: $(STAMP)

# Rebuilt only when the pinned files change. requirements-dev.txt repeats every runtime pin of
# requirements.txt (it is compiled with -c requirements.txt), so installing both changes none.
# --compile-bytecode: every Airflow task process imports Airflow, the providers and the DAGs
# anew; without .pyc files (uv writes none by default, and environments that export
# PYTHONDONTWRITEBYTECODE=1 never cache them) each one compiles them from source, which
# costs several times the task's own work (bench/README-airflow.md).
# The project itself is installed editable (no build isolation: setuptools comes from the lock,
# --no-deps: the locks already hold every dependency), so scripts/, tests/ and bench/ import
# sparkify and sparkify_stack without touching sys.path.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml Makefile
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VENV)/bin/python -m ensurepip -q
	@$(VENV)/bin/uv --version 2>/dev/null | grep -qF "uv $(UV_VERSION)" || $(VENV)/bin/python -m pip install -q "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(VENV)/bin/python -r requirements.txt -r requirements-dev.txt
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python --no-build-isolation --no-deps -e .
	@touch $@

demo: venv
	scripts/demo.sh

test: venv
	scripts/test.sh $(ARGS)

# Scale-out proof (scripts/scale_out.sh, tests/scale_out): CeleryExecutor, Redis, two Celery workers
# each from its own folder; a few minutes. Own stack (state, Postgres, Airflow port below; S3 and
# Redis ports derived from the Postgres port: 8363, 6383), so it runs beside the demo and `make test`.
SCALE_OUT_STATE ?= $(CURDIR)/.state/scale-out
SCALE_OUT_PG_PORT ?= 55435
SCALE_OUT_AIRFLOW_PORT ?= 8083
scale-out: venv
	SPARKIFY_TEST_STATE=$(SCALE_OUT_STATE) SPARKIFY_TEST_PG_PORT=$(SCALE_OUT_PG_PORT) \
	  SPARKIFY_TEST_AIRFLOW_PORT=$(SCALE_OUT_AIRFLOW_PORT) scripts/scale_out.sh $(ARGS)

# Mutation run (scripts/mutants.py, list in tests/mutants/mutations.toml): on the test stack (the
# runner starts its Postgres + S3 when down and stops what it started); writes docs/mutants.md.
# Too slow for `make test`: run it before a release. ARGS='--only NAME ...' or '--list'.
mutants: venv
	. scripts/test-env.sh && $(VENV)/bin/python scripts/mutants.py $(ARGS)

down:
	-scripts/airflow.sh stop
	-scripts/postgres.sh stop
	-scripts/s3.sh stop
	-scripts/redis.sh stop
	-. scripts/test-env.sh && scripts/airflow.sh stop
	-. scripts/test-env.sh && scripts/postgres.sh stop
	-. scripts/test-env.sh && scripts/s3.sh stop
	-. scripts/test-env.sh && scripts/redis.sh stop
	-if [[ -d "$(SCALE_OUT_STATE)" ]]; then export SPARKIFY_TEST_STATE=$(SCALE_OUT_STATE) \
	  SPARKIFY_TEST_PG_PORT=$(SCALE_OUT_PG_PORT) SPARKIFY_TEST_AIRFLOW_PORT=$(SCALE_OUT_AIRFLOW_PORT) \
	  && . scripts/test-env.sh && for s in airflow redis s3 postgres; do scripts/$$s.sh stop; done; fi

# Stop every stack under .state/ and delete its state dir and the PostgreSQL root env.sh derives
# from it (/var/tmp/sparkify-<hash>); refuses, deleting nothing, if anything still runs (scripts/clean.sh).
clean:
	scripts/clean.sh

# Per-DAG backfill on the demo stack (scripts/backfill.py): staging re-stages and the transform
# follows through the assets; transform re-derives marts from staged partitions (no COPY).
backfill: venv
	@if [[ -z "$(DAG)" || -z "$(START)" || -z "$(END)" ]]; then \
		echo "usage: make backfill DAG=staging|transform START=YYYY-MM-DD END=YYYY-MM-DD [MODE=trigger|clear]; DAG=rollups START=YYYY-MM END=YYYY-MM" >&2; exit 2; fi
	@. scripts/env.sh && python scripts/backfill.py $(DAG) $(START) $(END) $(if $(MODE),--mode $(MODE))

status: venv
	@. scripts/env.sh && python scripts/status.py $(if $(START),--start $(START)) $(if $(END),--end $(END))

psql:
	@scripts/postgres.sh psql $(ARGS)

# The two locks from pyproject.toml (dependencies; dependency groups) with uv, keeping every current pin
# (scripts/lock.sh; UPGRADE="--upgrade-package NAME" to move one). Needs the package index.
lock: venv
	scripts/lock.sh

# tests/test_lint.py runs the same ruff, sqlfluff and shellcheck checks in `make test`; the lock
# drift check (recompile into a temp dir, diff) needs the package index, so it runs here only.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python scripts/lint_sql.py
	$(VENV)/bin/python scripts/lint_shell.py
	scripts/lock.sh --check

# The runtime lock alone (what the production image installs) is enough to import every DAG:
# builds a throwaway venv under /tmp with uv (from its cache: seconds), runs a DagBag, removes it.
check-runtime-lock: venv
	scripts/check_runtime_lock.sh

# Own stack (.state/bench, Postgres $(BENCH_PG_PORT)) so it never disturbs the demo or test data.
BENCH_PG_PORT ?= 55434
bench: venv
	export SPARKIFY_STATE="$(CURDIR)/.state/bench" SPARKIFY_PG_PORT=$(BENCH_PG_PORT) AIRFLOW_PORT=8082 \
	  && trap 'scripts/s3.sh stop; scripts/postgres.sh stop' EXIT \
	  && scripts/postgres.sh start && scripts/s3.sh start && . scripts/env.sh && $(VENV)/bin/python bench/bench.py $(ARGS)

# The benchmarks through the real scheduler each run on their own isolated stack (ports and state
# below): the script drops that stack's metadata DB, never the demo's or the tests'. Whatever
# happens, the trap stops its Airflow and Postgres by PID file. $(call isolated_bench,ENV,SCRIPT)
isolated_bench = $(1) bash -c '. scripts/test-env.sh \
	  && trap "scripts/airflow.sh stop; scripts/postgres.sh stop" EXIT \
	  && $(VENV)/bin/python $(2) $(ARGS)'

# Orchestration overhead (bench/airflow_overhead.py): a 30-partition staging backfill through the
# real scheduler per configuration (state /var/tmp/sf-overhead, Postgres 55520, Airflow 8195, S3 8395).
OVERHEAD_ENV := SPARKIFY_TEST_STATE=/var/tmp/sf-overhead SPARKIFY_TEST_PG_PORT=55520 \
	SPARKIFY_TEST_AIRFLOW_PORT=8195 SPARKIFY_TEST_S3_PORT=8395
bench-airflow: venv
	$(call isolated_bench,$(OVERHEAD_ENV),bench/airflow_overhead.py)

# A year of history through the real scheduler (bench/year_backfill.py): 365 generated days at the
# demo's size, the stack's default settings, `make backfill DAG=staging` over the year, every
# asset-triggered transform run, then the same data in-process for comparison (state
# /var/tmp/sf-year, Postgres 55530, Airflow 8196).
YEAR_ENV := SPARKIFY_TEST_STATE=/var/tmp/sf-year SPARKIFY_TEST_PG_PORT=55530 \
	SPARKIFY_TEST_AIRFLOW_PORT=8196 SPARKIFY_TEST_S3_PORT=8396
bench-year: venv
	$(call isolated_bench,$(YEAR_ENV),bench/year_backfill.py)

# Airflow's own cost per task instance (bench/task_floor.py): no-op mapped tasks on the same stack
# and settings, empty plugins folder (state /var/tmp/sf-floor, Postgres 55540, Airflow 8197).
FLOOR_ENV := SPARKIFY_TEST_STATE=/var/tmp/sf-floor SPARKIFY_TEST_PG_PORT=55540 \
	SPARKIFY_TEST_AIRFLOW_PORT=8197 SPARKIFY_TEST_S3_PORT=8397
bench-floor: venv
	$(call isolated_bench,$(FLOOR_ENV),bench/task_floor.py)

# make demo timed, cold (stack stopped first) and warm (services up): bench/RESULTS-demo.md.
bench-demo: venv
	$(VENV)/bin/python bench/demo_timing.py

# Hostile input (bench/hostile_memory.py): peak RSS of staging a ~1 GB day of garbage lines and one
# of blank lines, generated under /var/tmp and deleted afterwards. Own stack (.state/bench-hostile,
# Postgres $(HOSTILE_PG_PORT), folder source, no S3/Airflow); the trap stops its Postgres.
HOSTILE_PG_PORT ?= 55800
bench-hostile: venv
	export SPARKIFY_STATE="$(CURDIR)/.state/bench-hostile" SPARKIFY_PG_PORT=$(HOSTILE_PG_PORT) \
	  && trap 'scripts/postgres.sh stop' EXIT \
	  && scripts/postgres.sh start && . scripts/env.sh && $(VENV)/bin/python bench/hostile_memory.py $(ARGS)
