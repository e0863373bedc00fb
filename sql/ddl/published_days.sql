-- Each day's published version: the transform run that last published it (written by its publish
-- task after every load and check, before the warehouse_marts event). A rollup run notes the
-- versions it read (rollup_reads); a day whose version it did not read asks for its month again.
CREATE TABLE IF NOT EXISTS {{ this }} (
    partition_key VARCHAR(10)  NOT NULL,
    version       VARCHAR(250) NOT NULL,
    PRIMARY KEY (partition_key)
)
