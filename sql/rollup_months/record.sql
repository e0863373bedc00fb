-- The row a starting rollup run merges into rollup_months (upsert on month).
SELECT CAST(%(partition_key)s AS VARCHAR(7)) AS month, CAST(%(started_at)s AS TIMESTAMP) AS last_started_at
