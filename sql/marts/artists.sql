-- One row per artist_id; an artist appears once per song, the first record by source key wins.
-- Empty locations become NULL. Incremental like songs.sql: only the artist_ids with rows staged
-- (or touched) after the table's highest load_seq are merged.
WITH changed AS (
    SELECT DISTINCT staged.artist_id
    FROM {{ staging_songs }} AS staged
    WHERE staged.load_seq > (SELECT COALESCE(MAX(merged.load_seq), 0) FROM {{ this }} AS merged)
)
SELECT artist_id, artist_name AS name, NULLIF(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude, load_seq
FROM (
    SELECT s.artist_id, s.artist_name, s.artist_location, s.artist_latitude, s.artist_longitude,
           MAX(s.load_seq) OVER (PARTITION BY s.artist_id) AS load_seq,
           ROW_NUMBER() OVER (PARTITION BY s.artist_id ORDER BY s.source_key, s.line_number) AS rn
    FROM {{ staging_songs }} AS s
    WHERE s.artist_id IN (SELECT changed.artist_id FROM changed)
) AS ranked
WHERE rn = 1
