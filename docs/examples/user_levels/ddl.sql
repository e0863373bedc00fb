-- Level history (free/paid) of every user: one row per level period, split at day boundaries so
-- that every key is decided by one partition alone (see sql/marts/user_levels.sql for why).
-- A free<->paid change is a row whose level differs from previous_level; valid_to is when that
-- level ended (the next change), NULL while it is the user's current level.
CREATE TABLE IF NOT EXISTS {{ this }} (
    user_id        VARCHAR(64) NOT NULL,
    valid_from     TIMESTAMP   NOT NULL,
    valid_to       TIMESTAMP,
    level          VARCHAR(16) NOT NULL,
    previous_level VARCHAR(16),
    partition_key  VARCHAR(10) NOT NULL,
    PRIMARY KEY (user_id, valid_from)
)
