-- The song catalogue, staged incrementally: one row per song record, keyed by its source object and line.
CREATE TABLE IF NOT EXISTS {{ this }} (
    source_key       VARCHAR(1024)    NOT NULL,
    line_number      INTEGER          NOT NULL,
    num_songs        INTEGER,
    artist_id        VARCHAR(32)      NOT NULL,
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(1024),
    artist_name      VARCHAR(1024)    NOT NULL,
    song_id          VARCHAR(32)      NOT NULL,
    title            VARCHAR(1024)    NOT NULL,
    duration         DOUBLE PRECISION,
    year             INTEGER,
    -- The song-staging batch that wrote this row, or last touched it because a row sharing its
    -- song_id or artist_id was replaced: the songs and artists models merge only what changed.
    load_seq         BIGINT           NOT NULL,
    PRIMARY KEY (source_key, line_number)
)
