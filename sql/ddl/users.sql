-- One row per user; level and names come from the user's latest event (last_event_ts), whatever the load order.
CREATE TABLE IF NOT EXISTS {{ this }} (
    user_id       VARCHAR(64)  NOT NULL PRIMARY KEY,
    first_name    VARCHAR(256),
    last_name     VARCHAR(256),
    gender        VARCHAR(8),
    level         VARCHAR(16)  NOT NULL,
    last_event_ts BIGINT       NOT NULL
)
