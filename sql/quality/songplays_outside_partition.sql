-- Songplays filed under a partition whose UTC day does not contain their start_time: the fact's
-- partitioning would silently double- or under-count days. Returns the failing rows.
SELECT songplay_id, partition_key, start_time
FROM {{ songplays }}
WHERE partition_key = %(partition_key)s
  AND CAST(start_time AS DATE) <> CAST(partition_key AS DATE)
