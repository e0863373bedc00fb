-- Songplays a partition must produce: one per NextSong event of a logged-in user (user_id '' is
-- logged out), the same rule as marts/songplays.sql. Used by the row_count reconciliation check.
SELECT COUNT(*)
FROM {{ staging_events }}
WHERE partition_key = %(partition_key)s
  AND page = 'NextSong'
  AND user_id <> ''
