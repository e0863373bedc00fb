CREATE TABLE IF NOT EXISTS {{ this }} (
    song_id   VARCHAR(32)   NOT NULL PRIMARY KEY,
    title     VARCHAR(1024) NOT NULL,
    artist_id VARCHAR(32)   NOT NULL,
    year      INTEGER,
    duration  DOUBLE PRECISION
)
