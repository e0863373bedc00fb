{% from 'macros/month.sql' import days_of_month %}
-- Users whose monthly plays differ from the month's songplays (distinct events), either way: a user
-- missing from the rollup, a user the month has no songplays for, or a different count.
WITH rollup AS (
    SELECT user_id, plays
    FROM {{ user_activity_monthly }}
    WHERE month = %(partition_key)s
),

fact AS (
    SELECT user_id, COUNT(DISTINCT songplay_id) AS plays
    FROM {{ songplays }}
    WHERE {{ days_of_month('partition_key', '%(partition_key)s') }}
    GROUP BY user_id
)

SELECT COALESCE(rollup.user_id, fact.user_id) AS user_id, rollup.plays AS rollup_plays, fact.plays AS fact_plays
FROM rollup
FULL OUTER JOIN fact ON rollup.user_id = fact.user_id
WHERE rollup.plays IS DISTINCT FROM fact.plays
