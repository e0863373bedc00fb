-- Raw log events, one row per JSON record, partitioned by day (partition_key = 'YYYY-MM-DD').
-- A record is identified by its object, its line and its position on that line (record_in_line:
-- JSON objects separated only by whitespace on one line are separate records).
-- song_clean/artist_clean hold the mojibake-repaired strings used for matching; the raw ones stay for lineage.
CREATE TABLE IF NOT EXISTS {{ this }} (
    partition_key   VARCHAR(10)      NOT NULL,
    source_key      VARCHAR(1024)    NOT NULL,
    line_number     BIGINT           NOT NULL,
    record_in_line  INTEGER          NOT NULL,
    artist          VARCHAR(1024),
    auth            VARCHAR(32),
    first_name      VARCHAR(256),
    gender          VARCHAR(8),
    item_in_session INTEGER,
    last_name       VARCHAR(256),
    length          DOUBLE PRECISION,
    level           VARCHAR(16),
    location        VARCHAR(1024),
    method          VARCHAR(16),
    page            VARCHAR(64)      NOT NULL,
    registration    DOUBLE PRECISION,
    session_id      INTEGER,
    song            VARCHAR(1024),
    status          INTEGER,
    ts              BIGINT           NOT NULL,
    user_agent      VARCHAR(1024),
    user_id         VARCHAR(64)      NOT NULL,
    artist_clean    VARCHAR(1024),
    song_clean      VARCHAR(1024),
    PRIMARY KEY (partition_key, source_key, line_number, record_in_line)
)
