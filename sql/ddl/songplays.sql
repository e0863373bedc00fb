-- Fact: one row per NextSong event by a logged-in user. songplay_id is md5 of the event's natural key.
-- The key leads with partition_key: a day's inserts land in one region of the index instead of at
-- random md5 positions across a year of entries (which made a day's load 2x dearer by day 365).
-- songplay_id is unique within a partition (the key), not necessarily across days: an event is
-- loaded in its file's partition even when its ts lies on another day (valid; reported by the checks
-- staging_events_ts_in_partition and songplays_in_partition_day), so one event delivered in two
-- days' files is a row in each of those partitions.
CREATE TABLE IF NOT EXISTS {{ this }} (
    songplay_id   CHAR(32)      NOT NULL,
    partition_key VARCHAR(10)   NOT NULL,
    start_time    TIMESTAMP     NOT NULL,
    user_id       VARCHAR(64)   NOT NULL,
    level         VARCHAR(16),
    song_id       VARCHAR(32),
    artist_id     VARCHAR(32),
    session_id    INTEGER,
    location      VARCHAR(1024),
    user_agent    VARCHAR(1024),
    PRIMARY KEY (partition_key, songplay_id)
)
