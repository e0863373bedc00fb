-- Which source objects were staged, with the version seen (ETag or size+mtime), so unchanged files are skipped.
CREATE TABLE IF NOT EXISTS {{ this }} (
    source_key  VARCHAR(1024) NOT NULL PRIMARY KEY,
    version     VARCHAR(256)  NOT NULL,
    rows_loaded INTEGER       NOT NULL,
    rejected    INTEGER       NOT NULL,
    -- The song-staging batch that staged this version (numbers batches even after their rows
    -- were replaced: the next batch is the highest here + 1).
    load_seq    BIGINT        NOT NULL
)
