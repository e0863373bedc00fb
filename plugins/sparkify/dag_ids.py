"""The DAG ids, declared once: the DAG files, the status report and the scripts that watch runs name them.

Why a module: the health page (in the API server), `make status` and the run watchers must name
the same DAGs as the files that define them; a literal in each would drift with a rename.
"""

from __future__ import annotations

STAGING_DAG = "sparkify_staging"
TRANSFORM_DAG = "sparkify_transform"
ROLLUP_DAG = "sparkify_rollups"
SWEEP_DAG = "sparkify_sweep"
#: The partition DAGs whose runs the status report reads (the sweep's runs carry no partition).
PARTITION_DAGS = (STAGING_DAG, TRANSFORM_DAG, ROLLUP_DAG)
