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
