{% from 'macros/month.sql' import days_of_month %}
-- Per user and month: plays, sessions and distinct catalogue songs of the songplays published for
-- the month's days, and the level of the user's latest songplay that carries one. An event
-- delivered in two days' files is one play (distinct songplay_id). Ties on the latest start_time
-- keep the greatest level, so the result never depends on load order.
WITH month_plays AS (
    SELECT songplay_id, user_id, session_id, song_id, level, start_time
    FROM {{ songplays }}
    WHERE {{ days_of_month('partition_key', '%(partition_key)s') }}
),

latest_level AS (
    SELECT user_id, level
    FROM (
        SELECT user_id, level,
               ROW_NUMBER() OVER (
                   PARTITION BY user_id ORDER BY start_time DESC, level DESC, songplay_id DESC
               ) AS recency
        FROM month_plays
        WHERE level IS NOT NULL
    ) AS ranked
    WHERE recency = 1
)

SELECT
    CAST(%(partition_key)s AS VARCHAR(7)) AS month,
    plays.user_id,
    COUNT(DISTINCT plays.songplay_id) AS plays,
    COUNT(DISTINCT plays.session_id) AS sessions,
    COUNT(DISTINCT plays.song_id) AS distinct_songs,
    latest_level.level AS level_at_month_end
FROM month_plays AS plays
LEFT JOIN latest_level ON plays.user_id = latest_level.user_id
GROUP BY plays.user_id, latest_level.level
