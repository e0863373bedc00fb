-- Partition status (make status, the health page): per partition key (a day, or a month for
-- rollup checks) from %(start)s to %(end)s, the checks whose latest result did not pass: failed,
-- error or warned (dq_results keeps every result: latest wins, so a re-run that passes clears it).
SELECT
    latest.partition_key,
    latest.check_name,
    latest.status
FROM (
    SELECT
        partition_key,
        check_name,
        status,
        ROW_NUMBER() OVER (PARTITION BY partition_key, check_name ORDER BY checked_at DESC) AS newest
    FROM {{ dq_results }}
    WHERE partition_key BETWEEN %(start)s AND %(end)s
) AS latest
WHERE latest.newest = 1 AND latest.status IN ('failed', 'error', 'warned')
ORDER BY latest.partition_key, latest.check_name
