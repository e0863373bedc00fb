-- One row per song_id from the staged catalogue; year 0 means unknown and becomes NULL.
SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration
FROM (
    SELECT song_id, title, artist_id, year, duration,
           ROW_NUMBER() OVER (PARTITION BY song_id ORDER BY source_key, line_number) AS rn
    FROM {{ staging_songs }}
) ranked
WHERE rn = 1
