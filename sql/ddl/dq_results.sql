-- Append-only audit log of data-quality check results: one row per check execution (retries and
-- re-runs add rows, so it is not part of the idempotency contract). sample_rows holds up to 10
-- failing rows as a JSON array (NULL when the check passed or has no row-level failures).
-- No primary key on purpose: nothing ever updates a result, and Redshift would not enforce it.
CREATE TABLE IF NOT EXISTS {{ this }} (
    checked_at       TIMESTAMP        NOT NULL,
    dag_id           VARCHAR(250)     NOT NULL,
    run_id           VARCHAR(250)     NOT NULL,
    try_number       INTEGER,
    partition_key    VARCHAR(10),
    check_name       VARCHAR(250)     NOT NULL,
    check_type       VARCHAR(32)      NOT NULL,
    table_name       VARCHAR(128)     NOT NULL,
    scope            VARCHAR(16)      NOT NULL,
    severity         VARCHAR(8)       NOT NULL,
    status           VARCHAR(8)       NOT NULL,
    observed         DOUBLE PRECISION,
    expected         DOUBLE PRECISION,
    threshold        VARCHAR(256)     NOT NULL,
    sample_rows      VARCHAR(65535),
    duration_seconds DOUBLE PRECISION NOT NULL,
    message          VARCHAR(4096)
)
