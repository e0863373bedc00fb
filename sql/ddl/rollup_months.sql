-- Months a rollup run has started for. A rollup run records its month (committed) before it reads
-- the fact, so a day published after that moment finds its month here and asks for the month's
-- rollup again (asset rollup_requests); a day published before it is read by that run.
CREATE TABLE IF NOT EXISTS {{ this }} (
    month           VARCHAR(7) NOT NULL,
    last_started_at TIMESTAMP  NOT NULL,
    PRIMARY KEY (month)
)
