-- Rows of one partition in a partitioned table (staging_events, rejected_lines): whether a day is
-- staged before a manual transform run, and the rejections a Redshift COPY recorded.
SELECT COUNT(*) AS partition_rows
FROM {{ this }}
WHERE partition_key = %(partition_key)s
