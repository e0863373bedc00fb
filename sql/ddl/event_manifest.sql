-- The log objects each staged day was staged from, with the version seen (ETag or size+mtime);
-- written in the transaction that replaces the day's partition, so it always describes the rows
-- staging_events holds. The late-data sweep (sparkify_sweep) compares it with the source and
-- re-stages the days whose objects were added, replaced or removed since.
-- A day staged from no object (source.allow_empty_partitions) has one row with source_key = ''
-- and version = '': the day is known to be staged, so objects arriving later count as added.
-- rows_loaded/rejected are per object where staging reads the objects itself (PostgreSQL); NULL
-- where the warehouse COPYs them (Redshift: COPY reports only the day's totals).
-- No timestamp: re-staging the same objects leaves the table identical (the idempotency contract);
-- when a day was staged is in the Airflow runs and asset events.
CREATE TABLE IF NOT EXISTS {{ this }} (
    partition_key VARCHAR(10)   NOT NULL,
    source_key    VARCHAR(1024) NOT NULL,
    version       VARCHAR(256)  NOT NULL,
    rows_loaded   INTEGER,
    rejected      INTEGER,
    PRIMARY KEY (partition_key, source_key)
)
