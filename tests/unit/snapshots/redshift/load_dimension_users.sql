LOCK "sparkify"."users";

CREATE TEMP TABLE _model AS -- Each user's latest event that carries a level, in this partition ("latest level wins" means the
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
    FROM "sparkify"."staging_events"
    WHERE partition_key = %(partition_key)s
      AND user_id <> ''
      AND level IS NOT NULL
) latest
WHERE rn = 1;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

DELETE FROM _model USING "sparkify"."users" AS target
WHERE target."user_id" = _model."user_id"
  AND NOT ((_model."last_event_ts" > target."last_event_ts") OR (_model."last_event_ts" = target."last_event_ts" AND _model."level" > target."level"));

MERGE INTO "sparkify"."users" USING _model AS source
ON "sparkify"."users"."user_id" = source."user_id"
WHEN MATCHED THEN UPDATE SET "first_name" = source."first_name", "last_name" = source."last_name", "gender" = source."gender", "level" = source."level", "last_event_ts" = source."last_event_ts"
WHEN NOT MATCHED THEN INSERT ("user_id", "first_name", "last_name", "gender", "level", "last_event_ts") VALUES (source."user_id", source."first_name", source."last_name", source."gender", source."level", source."last_event_ts");

DROP TABLE _model;
