-- The objects (key + version) each staged day of the sweep's window was staged from; the primary
-- key (partition_key, source_key) serves the range, so the cost follows the window, not history.
SELECT
    partition_key,
    source_key,
    version
FROM {{ event_manifest }}
WHERE partition_key >= %(first_day)s AND partition_key <= %(last_day)s
ORDER BY partition_key, source_key
