-- Fact: one row per NextSong event by a logged-in user. songplay_id is md5 of the event's natural key.
CREATE TABLE IF NOT EXISTS {{ this }} (
    songplay_id   CHAR(32)      NOT NULL PRIMARY KEY,
    partition_key VARCHAR(10)   NOT NULL,
    start_time    TIMESTAMP     NOT NULL,
    user_id       VARCHAR(64)   NOT NULL,
    level         VARCHAR(16),
    song_id       VARCHAR(32),
    artist_id     VARCHAR(32),
    session_id    INTEGER,
    location      VARCHAR(1024),
    user_agent    VARCHAR(1024)
)
