-- Songplays a partition must produce: one per distinct event identity (user, session, item, ts)
-- among NextSong events of logged-in users (user_id '' is logged out), the same rule as
-- marts/songplays.sql. Used by the row_count reconciliation check.
SELECT COUNT(*)
FROM (
    SELECT DISTINCT user_id, session_id, item_in_session, ts
    FROM {{ staging_events }}
    WHERE partition_key = %(partition_key)s
      AND page = 'NextSong'
      AND user_id <> ''
) identities
