-- The song a played (title, artist, duration) resolves to: one row per match key of the staged
-- catalogue, the smallest song_id (then artist_id) among its candidates. Maintained by song staging
-- for the keys each batch adds or removes, so the fact load probes it per event instead of ranking
-- the whole catalogue for every partition.
CREATE TABLE IF NOT EXISTS {{ this }} (
    match_key VARCHAR(32) NOT NULL PRIMARY KEY,
    song_id   VARCHAR(32) NOT NULL,
    artist_id VARCHAR(32) NOT NULL
)
