-- Input lines that could not be staged, kept with the reason so nothing is lost silently.
CREATE TABLE IF NOT EXISTS {{ this }} (
    partition_key VARCHAR(10),
    source_key    VARCHAR(1024) NOT NULL,
    line_number   INTEGER       NOT NULL,
    reason        VARCHAR(1024) NOT NULL,
    raw_line      VARCHAR(4096),
    PRIMARY KEY (source_key, line_number)
)
