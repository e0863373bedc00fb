"""The project's one Airflow plugin module: the package, imported once and before tasks fork.

Why: Airflow's plugin loader imports every .py file under plugins/ as a top-level module named
after the file, so each module of the package was imported twice (as ``config`` and as
``sparkify.config``, …) in every process, with a name clash waiting for the first installed
package called ``config``. plugins/.airflowignore now hides the package from the loader, and
this module imports the operators (and with them the parser, msgspec and the warehouse
adapters) under their real names, so the scheduler and workers hold them before they start
task processes.
"""

from __future__ import annotations

import importlib
import pkgutil

from airflow.plugins_manager import AirflowPlugin

import sparkify.operators

#: Every operator module (and through them config, the parser, msgspec), the warehouse adapters
#: and the provider hook they connect through: the adapters are imported lazily by
#: warehouse_for, and a task process that imports psycopg and the hook itself pays for it in
#: every one of the dozens of tasks a partition runs.
PRELOADED = (
    *(
        importlib.import_module(f"sparkify.operators.{module.name}")
        for module in pkgutil.iter_modules(sparkify.operators.__path__)
    ),
    importlib.import_module("sparkify.warehouse.postgres"),
    importlib.import_module("sparkify.warehouse.redshift"),
    importlib.import_module("airflow.providers.postgres.hooks.postgres"),
)


class SparkifyPlugin(AirflowPlugin):
    """Registers nothing yet; its module is how the package is loaded (see the module docstring)."""

    name = "sparkify"
