"""Helpers of the local stack shared by scripts/, tests/ and bench/: the Airflow REST client
(airflow_api, also a command line: ``python -m sparkify_stack.airflow_api``) and the run
watching and progress reporting of make demo / make backfill / make status (runwatch)."""
