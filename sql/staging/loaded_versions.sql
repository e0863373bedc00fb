-- Every object already staged with the version (ETag or mtime+size) it was staged at: song files
-- whose key and version are here are skipped.
SELECT
    source_key,
    version
FROM {{ this }}
