-- Rollup: the catalogue songs played in a month (YYYY-MM), ranked by plays (1 = most played; ties
-- share a rank). Rebuilt as a whole month by sparkify_rollups (delete + insert).
CREATE TABLE IF NOT EXISTS {{ this }} (
    month     VARCHAR(7)  NOT NULL,
    song_id   VARCHAR(32) NOT NULL,
    artist_id VARCHAR(32),
    plays     INTEGER     NOT NULL,
    listeners INTEGER     NOT NULL,
    play_rank INTEGER     NOT NULL,
    PRIMARY KEY (month, song_id)
)
