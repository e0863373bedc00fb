-- One row per song_id from the staged catalogue; year 0 means unknown and becomes NULL. The first
-- record by source key wins. Incremental: only the song_ids with rows staged (or touched) after
-- the table's highest load_seq are merged, so a partition whose run staged no songs merges none.
WITH changed AS (
    SELECT DISTINCT staged.song_id
    FROM {{ staging_songs }} AS staged
    WHERE staged.load_seq > (SELECT COALESCE(MAX(merged.load_seq), 0) FROM {{ this }} AS merged)
)
SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration, load_seq
FROM (
    SELECT s.song_id, s.title, s.artist_id, s.year, s.duration,
           MAX(s.load_seq) OVER (PARTITION BY s.song_id) AS load_seq,
           ROW_NUMBER() OVER (PARTITION BY s.song_id ORDER BY s.source_key, s.line_number) AS rn
    FROM {{ staging_songs }} AS s
    WHERE s.song_id IN (SELECT changed.song_id FROM changed)
) AS ranked
WHERE rn = 1
