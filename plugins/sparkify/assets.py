"""Asset constants shared by the staging, transform and rollup DAGs.

Every DAG file imports these objects so a producer's outlets and its consumer's
PartitionedAssetTimetable can never drift apart by a typo in a URI.
"""

from __future__ import annotations

from airflow.sdk import Asset

STAGING_EVENTS = Asset(name="staging_events", uri="sparkify://warehouse/staging_events")
STAGING_SONGS = Asset(name="staging_songs", uri="sparkify://warehouse/staging_songs")
WAREHOUSE_MARTS = Asset(name="warehouse_marts", uri="sparkify://warehouse/marts")
WAREHOUSE_ROLLUPS = Asset(name="warehouse_rollups", uri="sparkify://warehouse/rollups")
#: A re-published day of an already rolled-up month asks for that month's rollup again (partition
#: key = the month). Airflow's RollupMapper alone would wait for every day of the month anew.
ROLLUP_REQUESTS = Asset(name="rollup_requests", uri="sparkify://warehouse/rollup_requests")
