-- The newest staged day not after today: the late-data sweep's lookback window ends there (NULL
-- when nothing is staged yet). A day staged for a future date is left out of the window.
SELECT MAX(partition_key) AS newest_staged_day
FROM {{ event_manifest }}
WHERE partition_key <= %(today)s
