"""Sparkify pipeline plugin package: config loader, operators and helpers used by the DAGs.

Kept import-free on purpose so that importing one submodule (e.g. ``sparkify.config`` at
DAG parse time) does not pull in operators, hooks or provider packages.
"""
