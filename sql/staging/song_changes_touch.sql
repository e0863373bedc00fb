-- Rows of other objects that share a song_id (column = 'song_id') or an artist_id ('artist_id')
-- with a removed row take this batch's load_seq: the record that wins for that song or artist
-- may have changed, so the incremental songs and artists models merge it again.
UPDATE {{ this }}
SET load_seq = %(load_seq)s
WHERE load_seq <> %(load_seq)s
  AND {{ column }} IN (SELECT changes.{{ column }} FROM {{ song_changes }} AS changes)
