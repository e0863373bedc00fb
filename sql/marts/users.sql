-- Each user's latest event in this partition. The upsert keeps the row with the greatest
-- (last_event_ts, level), so the final level is the latest one whatever order partitions load in.
SELECT user_id, first_name, last_name, gender, level, last_event_ts
FROM (
    SELECT user_id, first_name, last_name, gender, level, ts AS last_event_ts,
           ROW_NUMBER() OVER (
               PARTITION BY user_id
               ORDER BY ts DESC, level DESC, source_key DESC, line_number DESC
           ) AS rn
    FROM {{ staging_events }}
    WHERE partition_key = %(partition_key)s
      AND user_id <> ''
) latest
WHERE rn = 1
