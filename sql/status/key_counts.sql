-- Partition status (make status, the health page): rows per partition key of one table
-- (staging_events, rejected_lines, the fact), for keys from %(start)s to %(end)s (text order: a
-- month key sorts before its days).
SELECT
    {{ partition_column }} AS partition_key,
    COUNT(*) AS row_count
FROM {{ this }}
WHERE {{ partition_column }} BETWEEN %(start)s AND %(end)s
GROUP BY {{ partition_column }}
