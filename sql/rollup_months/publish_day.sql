-- The row a transform's publish task merges into published_days (upsert on partition_key).
SELECT CAST(%(partition_key)s AS VARCHAR(10)) AS partition_key, CAST(%(version)s AS VARCHAR(250)) AS version
