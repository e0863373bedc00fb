-- The published version of each day a month's latest rollup run read (noted, committed, before
-- it reads the fact).
CREATE TABLE IF NOT EXISTS {{ this }} (
    month         VARCHAR(7)   NOT NULL,
    partition_key VARCHAR(10)  NOT NULL,
    version       VARCHAR(250) NOT NULL,
    PRIMARY KEY (month, partition_key)
)
