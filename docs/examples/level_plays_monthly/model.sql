{% from 'macros/month.sql' import days_of_month %}
-- Per month and level: the songplays published for the month's days (an event delivered in two
-- days' files is one play) and the distinct users who played at that level.
SELECT
    CAST(%(partition_key)s AS VARCHAR(7)) AS month,
    level,
    COUNT(DISTINCT songplay_id) AS plays,
    COUNT(DISTINCT user_id) AS listeners
FROM {{ songplays }}
WHERE {{ days_of_month('partition_key', '%(partition_key)s') }}
  AND level IS NOT NULL
GROUP BY level
