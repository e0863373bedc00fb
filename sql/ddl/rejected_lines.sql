-- Input records that could not be staged, kept with the reason so nothing is lost silently.
-- raw_line is the record's text, escaped (invalid UTF-8 as \xNN) and then cut to 4000 characters;
-- byte_length and raw_sha256 describe the whole raw record, so it can be found in its object.
-- Song records have no partition (NULL); their line_number is the record's number in the object.
CREATE TABLE IF NOT EXISTS {{ this }} (
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
