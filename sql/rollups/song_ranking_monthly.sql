{% from 'macros/month.sql' import days_of_month %}
-- Per month: every catalogue song played in the songplays published for the month's days, with
-- its plays (distinct songplay_id: an event in two days' files is one play), distinct listeners
-- and rank by plays (RANK: ties share a rank, the next rank skips).
SELECT
    CAST(%(partition_key)s AS VARCHAR(7)) AS month,
    song_id,
    MIN(artist_id) AS artist_id,
    COUNT(DISTINCT songplay_id) AS plays,
    COUNT(DISTINCT user_id) AS listeners,
    RANK() OVER (ORDER BY COUNT(DISTINCT songplay_id) DESC) AS play_rank
FROM {{ songplays }}
WHERE {{ days_of_month('partition_key', '%(partition_key)s') }}
  AND song_id IS NOT NULL
GROUP BY song_id
