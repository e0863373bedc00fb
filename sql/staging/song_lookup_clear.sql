-- Forget the winners of every match key the batch touched (recomputed by song_lookup_fill.sql).
DELETE FROM {{ song_lookup }}
WHERE match_key IN (SELECT changes.match_key FROM {{ song_changes }} AS changes)
