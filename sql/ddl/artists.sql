CREATE TABLE IF NOT EXISTS {{ this }} (
    artist_id VARCHAR(32)   NOT NULL PRIMARY KEY,
    name      VARCHAR(1024) NOT NULL,
    location  VARCHAR(1024),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION
)
