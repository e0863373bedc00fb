-- load_seq: the latest song-staging batch (staging_songs.load_seq) merged into the row; the
-- next load merges only the staged rows past the table's highest one.
CREATE TABLE IF NOT EXISTS {{ this }} (
    song_id   VARCHAR(32)   NOT NULL PRIMARY KEY,
    title     VARCHAR(1024) NOT NULL,
    artist_id VARCHAR(32)   NOT NULL,
    year      INTEGER,
    duration  DOUBLE PRECISION,
    load_seq  BIGINT        NOT NULL
)
