CREATE SCHEMA IF NOT EXISTS "sparkify";

-- Which source objects were staged, with the version seen (ETag or size+mtime), so unchanged files are skipped.
CREATE TABLE IF NOT EXISTS "sparkify"."load_manifest" (
    source_key  VARCHAR(1024) NOT NULL PRIMARY KEY,
    version     VARCHAR(256)  NOT NULL,
    rows_loaded INTEGER       NOT NULL,
    rejected    INTEGER       NOT NULL,
    -- The song-staging batch that staged this version (numbers batches even after their rows
    -- were replaced: the next batch is the highest here + 1).
    load_seq    BIGINT        NOT NULL
)
DISTSTYLE ALL;

-- The log objects each staged day was staged from, with the version seen (ETag or size+mtime);
-- written in the transaction that replaces the day's partition, so it always describes the rows
-- staging_events holds. The late-data sweep (sparkify_sweep) compares it with the source and
-- re-stages the days whose objects were added, replaced or removed since.
-- A day staged from no object (source.allow_empty_partitions) has one row with source_key = ''
-- and version = '': the day is known to be staged, so objects arriving later count as added.
-- rows_loaded/rejected are per object where staging reads the objects itself (PostgreSQL); NULL
-- where the warehouse COPYs them (Redshift: COPY reports only the day's totals).
-- No timestamp: re-staging the same objects leaves the table identical (the idempotency contract);
-- when a day was staged is in the Airflow runs and asset events.
CREATE TABLE IF NOT EXISTS "sparkify"."event_manifest" (
    partition_key VARCHAR(10)   NOT NULL,
    source_key    VARCHAR(1024) NOT NULL,
    version       VARCHAR(256)  NOT NULL,
    rows_loaded   INTEGER,
    rejected      INTEGER,
    PRIMARY KEY (partition_key, source_key)
)
DISTSTYLE ALL SORTKEY (partition_key);

-- Input records that could not be staged, kept with the reason so nothing is lost silently.
-- raw_line is the record's text, escaped (invalid UTF-8 as \xNN) and then cut to 4000 characters;
-- byte_length and raw_sha256 describe the whole raw record, so it can be found in its object.
-- Song records have no partition (NULL); their line_number is the record's number in the object.
CREATE TABLE IF NOT EXISTS "sparkify"."rejected_lines" (
    partition_key  VARCHAR(10),
    source_key     VARCHAR(1024) NOT NULL,
    line_number    BIGINT        NOT NULL,
    record_in_line INTEGER       NOT NULL,
    reason         VARCHAR(1024) NOT NULL,
    byte_length    BIGINT        NOT NULL,
    raw_sha256     CHAR(64)      NOT NULL,
    raw_line       VARCHAR(4096),
    PRIMARY KEY (source_key, line_number, record_in_line)
)
DISTSTYLE EVEN SORTKEY (partition_key);

-- Append-only audit log of data-quality check results: one row per check execution (retries and
-- re-runs add rows, so it is not part of the idempotency contract). sample_rows holds up to 10
-- failing rows as a JSON array (NULL when the check passed or has no row-level failures).
-- No primary key on purpose: nothing ever updates a result, and Redshift would not enforce it.
CREATE TABLE IF NOT EXISTS "sparkify"."dq_results" (
    checked_at       TIMESTAMP        NOT NULL,
    dag_id           VARCHAR(250)     NOT NULL,
    run_id           VARCHAR(250)     NOT NULL,
    try_number       INTEGER,
    partition_key    VARCHAR(10),
    check_name       VARCHAR(250)     NOT NULL,
    check_type       VARCHAR(32)      NOT NULL,
    table_name       VARCHAR(128)     NOT NULL,
    scope            VARCHAR(16)      NOT NULL,
    severity         VARCHAR(8)       NOT NULL,
    status           VARCHAR(8)       NOT NULL,
    observed         DOUBLE PRECISION,
    expected         DOUBLE PRECISION,
    threshold        VARCHAR(256)     NOT NULL,
    sample_rows      VARCHAR(65535),
    duration_seconds DOUBLE PRECISION NOT NULL,
    message          VARCHAR(4096)
);

-- The song a played (title, artist, duration) resolves to: one row per match key of the staged
-- catalogue, the smallest song_id (then artist_id) among its candidates. Maintained by song staging
-- for the keys each batch adds or removes, so the fact load probes it per event instead of ranking
-- the whole catalogue for every partition.
CREATE TABLE IF NOT EXISTS "sparkify"."song_lookup" (
    match_key VARCHAR(32) NOT NULL PRIMARY KEY,
    song_id   VARCHAR(32) NOT NULL,
    artist_id VARCHAR(32) NOT NULL
);

-- Months a rollup run has started for. A rollup run records its month (committed) before it reads
-- the fact, so a day published after that moment finds its month here and asks for the month's
-- rollup again (asset rollup_requests); a day published before it is read by that run.
CREATE TABLE IF NOT EXISTS "sparkify"."rollup_months" (
    month           VARCHAR(7) NOT NULL,
    last_started_at TIMESTAMP  NOT NULL,
    PRIMARY KEY (month)
);

-- Each day's published version: the transform run that last published it (written by its publish
-- task after every load and check, before the warehouse_marts event). A rollup run notes the
-- versions it read (rollup_reads); a day whose version it did not read asks for its month again.
CREATE TABLE IF NOT EXISTS "sparkify"."published_days" (
    partition_key VARCHAR(10)  NOT NULL,
    version       VARCHAR(250) NOT NULL,
    PRIMARY KEY (partition_key)
);

-- The published version of each day a month's latest rollup run read (noted, committed, before
-- it reads the fact).
CREATE TABLE IF NOT EXISTS "sparkify"."rollup_reads" (
    month         VARCHAR(7)   NOT NULL,
    partition_key VARCHAR(10)  NOT NULL,
    version       VARCHAR(250) NOT NULL,
    PRIMARY KEY (month, partition_key)
);

-- Raw log events, one row per JSON record, partitioned by day (partition_key = 'YYYY-MM-DD').
-- A record is identified by its object, its line and its position on that line (record_in_line:
-- JSON objects separated only by whitespace on one line are separate records).
-- song_clean/artist_clean hold the mojibake-repaired strings used for matching; the raw ones stay for lineage.
CREATE TABLE IF NOT EXISTS "sparkify"."staging_events" (
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
DISTSTYLE EVEN SORTKEY (partition_key, ts);

-- The song catalogue, staged incrementally: one row per song record, keyed by its source object and line.
CREATE TABLE IF NOT EXISTS "sparkify"."staging_songs" (
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
DISTKEY (song_id) SORTKEY (song_id);

-- Fact: one row per NextSong event by a logged-in user. songplay_id is md5 of the event's natural key.
-- The key leads with partition_key: a day's inserts land in one region of the index instead of at
-- random md5 positions across a year of entries (which made a day's load 2x dearer by day 365).
-- songplay_id is unique within a partition (the key), not necessarily across days: an event is
-- loaded in its file's partition even when its ts lies on another day (valid; reported by the checks
-- staging_events_ts_in_partition and songplays_in_partition_day), so one event delivered in two
-- days' files is a row in each of those partitions.
CREATE TABLE IF NOT EXISTS "sparkify"."songplays" (
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
DISTKEY (song_id) SORTKEY (partition_key, start_time);

-- One row per user; level and names come from the user's latest event (last_event_ts), whatever the load order.
CREATE TABLE IF NOT EXISTS "sparkify"."users" (
    user_id       VARCHAR(64)  NOT NULL PRIMARY KEY,
    first_name    VARCHAR(256),
    last_name     VARCHAR(256),
    gender        VARCHAR(8),
    level         VARCHAR(16)  NOT NULL,
    last_event_ts BIGINT       NOT NULL
)
DISTSTYLE ALL SORTKEY (user_id);

-- load_seq: the latest song-staging batch (staging_songs.load_seq) merged into the row; the
-- next load merges only the staged rows past the table's highest one.
CREATE TABLE IF NOT EXISTS "sparkify"."songs" (
    song_id   VARCHAR(32)   NOT NULL PRIMARY KEY,
    title     VARCHAR(1024) NOT NULL,
    artist_id VARCHAR(32)   NOT NULL,
    year      INTEGER,
    duration  DOUBLE PRECISION,
    load_seq  BIGINT        NOT NULL
)
DISTKEY (song_id) SORTKEY (song_id);

-- load_seq: the latest song-staging batch (staging_songs.load_seq) merged into the row; the
-- next load merges only the staged rows past the table's highest one.
CREATE TABLE IF NOT EXISTS "sparkify"."artists" (
    artist_id VARCHAR(32)   NOT NULL PRIMARY KEY,
    name      VARCHAR(1024) NOT NULL,
    location  VARCHAR(1024),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    load_seq  BIGINT        NOT NULL
)
DISTSTYLE ALL SORTKEY (artist_id);

-- One row per distinct songplay start_time.
CREATE TABLE IF NOT EXISTS "sparkify"."time" (
    start_time TIMESTAMP NOT NULL PRIMARY KEY,
    hour       SMALLINT  NOT NULL,
    day        SMALLINT  NOT NULL,
    week       SMALLINT  NOT NULL,
    month      SMALLINT  NOT NULL,
    year       SMALLINT  NOT NULL,
    weekday    SMALLINT  NOT NULL
)
DISTKEY (start_time) SORTKEY (start_time);

-- Rollup: one row per user and month (YYYY-MM) of the songplays published for the month's days.
-- Rebuilt as a whole month by sparkify_rollups (delete + insert), so the key holds the month.
CREATE TABLE IF NOT EXISTS "sparkify"."user_activity_monthly" (
    month              VARCHAR(7)   NOT NULL,
    user_id            VARCHAR(64)  NOT NULL,
    plays              INTEGER      NOT NULL,
    sessions           INTEGER      NOT NULL,
    distinct_songs     INTEGER      NOT NULL,
    level_at_month_end VARCHAR(16),
    PRIMARY KEY (month, user_id)
);

-- Rollup: the catalogue songs played in a month (YYYY-MM), ranked by plays (1 = most played; ties
-- share a rank). Rebuilt as a whole month by sparkify_rollups (delete + insert).
CREATE TABLE IF NOT EXISTS "sparkify"."song_ranking_monthly" (
    month     VARCHAR(7)  NOT NULL,
    song_id   VARCHAR(32) NOT NULL,
    artist_id VARCHAR(32),
    plays     INTEGER     NOT NULL,
    listeners INTEGER     NOT NULL,
    play_rank INTEGER     NOT NULL,
    PRIMARY KEY (month, song_id)
);
