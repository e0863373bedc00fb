"""The project's one Airflow plugin module: the package, imported once and before tasks fork.

Why: Airflow's plugin loader imports every .py file under plugins/ as a top-level module named
after the file, so each module of the package was imported twice (as ``config`` and as
``sparkify.config``, …) in every process, with a name clash waiting for the first installed
package called ``config``. plugins/.airflowignore now hides the package from the loader, and
this module imports the package under its real names, with what a task process would
otherwise import itself, so the scheduler and its workers hold them before they fork task
processes.
"""

from __future__ import annotations

import importlib
import pkgutil

import airflow.sdk
from airflow.plugins_manager import AirflowPlugin
from airflow.sdk.plugins_manager import integrate_macros_plugins

import sparkify
from sparkify.config import ConfigError, load_config
from sparkify.deadline import PartitionEndDeadline
from sparkify.health_app import EXTERNAL_VIEW, FASTAPI_APP
from sparkify.sqlfiles import compile_all

#: Every module of the package (operators, config, the parser and msgspec, the warehouse
#: adapters that warehouse_for imports lazily), the provider hook they connect through, the
#: names the DAG files take from airflow.sdk (``task`` pulls in libcst) and the task runner
#: every task process starts in: a module the scheduler holds is one that none of the dozens
#: of task processes a partition runs has to import again.
PRELOADED = (
    *(importlib.import_module(module.name) for module in pkgutil.walk_packages(sparkify.__path__, "sparkify.")),
    importlib.import_module("airflow.providers.postgres.hooks.postgres"),
    importlib.import_module("airflow.sdk.execution_time.task_runner"),
    *(getattr(airflow.sdk, name) for name in ("DAG", "task", "CronPartitionTimetable", "PartitionedAssetTimetable")),
)

# The DAG files validate config.json at every parse, task processes included; validated once
# here, a forked task process finds it in load_config's cache (keyed by the file's content, so an
# edited file is validated again). A broken config is reported by the DAG files' import errors.
try:
    load_config()
except ConfigError:
    pass
# Likewise the SQL templates: compiled once here, not in each task process that renders one.
compile_all()


class SparkifyPlugin(AirflowPlugin):
    """Loads the package (see the module docstring), registers its deadline reference and the health page.

    ``deadline_references``: the scheduler and the API server evaluate a DAG's deadline alert when
    they create a run, and only import a custom reference class a plugin registered
    (airflow.serialization.helpers.find_registered_custom_deadline_reference).

    ``fastapi_apps`` + ``external_views``: the partition health page (sparkify.health_app), served
    by the API server under /sparkify and shown in the UI under Browse → Partition health.
    """

    name = "sparkify"
    deadline_references = [PartitionEndDeadline]
    fastapi_apps = [FASTAPI_APP]
    external_views = [EXTERNAL_VIEW]


def load_task_sdk_plugins() -> None:
    """Run the task SDK's own plugin loader here, so processes forked from this one skip it.

    Why: besides Airflow's plugin loader (which imported this module), every task process runs the
    task SDK's loader once (for macros and listeners): it walks the plugins folder, executes this
    file again and scans every installed distribution's entry points. Its result is cached per
    process, so loaded here, in the scheduler (and a Celery worker) before they fork, the task
    processes start with it. That loader executes this file again; the flag stops it recursing.
    """
    if getattr(sparkify, "task_sdk_plugins_loaded", False):
        return
    sparkify.task_sdk_plugins_loaded = True  # type: ignore[attr-defined]
    integrate_macros_plugins()


load_task_sdk_plugins()
