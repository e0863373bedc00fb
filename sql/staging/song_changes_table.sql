-- What one song-staging batch removed or added (this transaction only): whose songs and artists
-- to merge again, and which match keys of song_lookup to recompute.
CREATE TEMPORARY TABLE {{ song_changes }} (
    song_id   VARCHAR(32),
    artist_id VARCHAR(32),
    match_key VARCHAR(32)
)
