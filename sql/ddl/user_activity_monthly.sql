-- Rollup: one row per user and month (YYYY-MM) of the songplays published for the month's days.
-- Rebuilt as a whole month by sparkify_rollups (delete + insert), so the key holds the month.
CREATE TABLE IF NOT EXISTS {{ this }} (
    month              VARCHAR(7)   NOT NULL,
    user_id            VARCHAR(64)  NOT NULL,
    plays              INTEGER      NOT NULL,
    sessions           INTEGER      NOT NULL,
    distinct_songs     INTEGER      NOT NULL,
    level_at_month_end VARCHAR(16),
    PRIMARY KEY (month, user_id)
)
