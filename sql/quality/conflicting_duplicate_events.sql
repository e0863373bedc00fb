-- Songplay identities (user, session, item, ts) that occur in this partition with different content:
-- at-least-once delivery explains exact duplicates, not these. marts/songplays.sql keeps one of
-- them deterministically; this returns each such identity with its number of versions.
SELECT user_id, session_id, item_in_session, ts, COUNT(*) AS versions
FROM (
    SELECT DISTINCT user_id, session_id, item_in_session, ts, level, song_clean, artist_clean, length,
                    location, user_agent
    FROM {{ staging_events }}
    WHERE partition_key = %(partition_key)s
      AND page = 'NextSong'
      AND user_id <> ''
) versions
GROUP BY user_id, session_id, item_in_session, ts
HAVING COUNT(*) > 1
