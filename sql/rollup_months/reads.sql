{% from 'macros/month.sql' import days_of_month %}
-- The published versions of the month's days, as a starting rollup run notes them in rollup_reads
-- (upsert on month + partition_key).
SELECT CAST(%(partition_key)s AS VARCHAR(7)) AS month, partition_key, version
FROM {{ published_days }}
WHERE {{ days_of_month('partition_key', '%(partition_key)s') }}
