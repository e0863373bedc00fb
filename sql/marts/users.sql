-- Each user's latest event that carries a level, in this partition ("latest level wins" means the
-- latest non-null level: an event without one never blanks a known level). The upsert keeps the
-- row with the greatest (last_event_ts, level), so the final level is the latest one whatever
-- order partitions load in. A user none of whose events carries a level gets no row (the
-- songplays_users_exist check reports their songplays).
SELECT user_id, first_name, last_name, gender, level, last_event_ts
FROM (
    SELECT user_id, first_name, last_name, gender, level, ts AS last_event_ts,
           ROW_NUMBER() OVER (
               PARTITION BY user_id
               ORDER BY ts DESC, level DESC, source_key DESC, line_number DESC, record_in_line DESC
           ) AS rn
    FROM {{ staging_events }}
    WHERE partition_key = %(partition_key)s
      AND user_id <> ''
      AND level IS NOT NULL
) latest
WHERE rn = 1
