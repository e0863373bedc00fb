-- The newest staged day not after today: the late-data sweep's lookback window ends there (NULL
-- when nothing is staged yet). A day staged for a future date is left out of the window.
SELECT MAX(partition_key) AS newest_staged_day
FROM "sparkify"."event_manifest"
WHERE partition_key <= %(today)s;
-- params: {"today": "2018-12-01"}

-- The objects (key + version) each staged day of the sweep's window was staged from; the primary
-- key (partition_key, source_key) serves the range, so the cost follows the window, not history.
SELECT
    partition_key,
    source_key,
    version
FROM "sparkify"."event_manifest"
WHERE partition_key >= %(first_day)s AND partition_key <= %(last_day)s
ORDER BY partition_key, source_key;
-- params: {"first_day": "2018-11-24", "last_day": "2018-11-30"}
