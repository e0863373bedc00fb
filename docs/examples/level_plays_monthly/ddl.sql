-- Rollup: plays and listeners per subscription level and month (YYYY-MM).
CREATE TABLE IF NOT EXISTS {{ this }} (
    month     VARCHAR(7)  NOT NULL,
    level     VARCHAR(16) NOT NULL,
    plays     INTEGER     NOT NULL,
    listeners INTEGER     NOT NULL,
    PRIMARY KEY (month, level)
)
