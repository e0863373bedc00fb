-- The staged versions of some objects (bound as an array), read again under the staging lock:
-- objects another run staged since this one listed them are skipped, not staged twice.
SELECT
    source_key,
    version
FROM {{ this }}
WHERE source_key = ANY(%(keys)s)
