-- One row per distinct songplay start_time.
CREATE TABLE IF NOT EXISTS {{ this }} (
    start_time TIMESTAMP NOT NULL PRIMARY KEY,
    hour       SMALLINT  NOT NULL,
    day        SMALLINT  NOT NULL,
    week       SMALLINT  NOT NULL,
    month      SMALLINT  NOT NULL,
    year       SMALLINT  NOT NULL,
    weekday    SMALLINT  NOT NULL
)
