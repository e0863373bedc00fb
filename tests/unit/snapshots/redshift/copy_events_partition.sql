LOCK "sparkify"."staging_events";

CREATE TEMP TABLE _copy_events AS SELECT "artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level", "location", "method", "page", "registration", "session_id", "song", "status", "ts", "user_agent", "user_id" FROM "sparkify"."staging_events" WHERE 1 = 0;

COPY _copy_events ("artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level", "location", "method", "page", "registration", "session_id", "song", "status", "ts", "user_agent", "user_id")
FROM 's3://udacity-dend/_sparkify/manifests/staging_events-2018-11-05.json'
IAM_ROLE 'arn:aws:iam::123456789012:role/sparkify-redshift-copy'
FORMAT AS JSON 's3://udacity-dend/_sparkify/jsonpaths/staging_events.json'
MANIFEST
TIMEFORMAT 'epochmillisecs'
REGION 'us-west-2'
MAXERROR 10
COMPUPDATE OFF STATUPDATE OFF;

DELETE FROM "sparkify"."staging_events" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05", "source_key": "s3://udacity-dend/log_data/2018/11/2018-11-05"}

DELETE FROM "sparkify"."rejected_lines" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05", "source_key": "s3://udacity-dend/log_data/2018/11/2018-11-05"}

INSERT INTO "sparkify"."staging_events" ("partition_key", "source_key", "line_number", "record_in_line", "artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level", "location", "method", "page", "registration", "session_id", "song", "status", "ts", "user_agent", "user_id", "artist_clean", "song_clean")
SELECT %(partition_key)s, %(source_key)s,
       ROW_NUMBER() OVER (ORDER BY ts, session_id, item_in_session, user_id, page, song, artist), 1,
       "artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level", "location", "method", "page", "registration", "session_id", "song", "status", "ts", "user_agent", "user_id", artist, song
FROM _copy_events;
-- params: {"partition_key": "2018-11-05", "source_key": "s3://udacity-dend/log_data/2018/11/2018-11-05"}

INSERT INTO "sparkify"."rejected_lines" (partition_key, source_key, line_number, record_in_line, reason, byte_length, raw_sha256, raw_line)
SELECT %(partition_key)s, TRIM(filename), line_number, 1,
       LEFT(TRIM(colname) || ': ' || TRIM(err_reason), 1024),
       OCTET_LENGTH(TRIM(raw_line)), SHA2(TRIM(raw_line), 256), LEFT(TRIM(raw_line), 4000)
FROM stl_load_errors
WHERE query = pg_last_copy_id();
-- params: {"partition_key": "2018-11-05", "source_key": "s3://udacity-dend/log_data/2018/11/2018-11-05"}

DELETE FROM "sparkify"."event_manifest" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

-- One object of a day being staged, recorded in the transaction that replaces the day's partition
-- (after its old rows were deleted); source_key '' marks a day staged from no object.
INSERT INTO "sparkify"."event_manifest" (partition_key, source_key, version, rows_loaded, rejected)
VALUES (%(partition_key)s, %(source_key)s, %(version)s, %(rows_loaded)s, %(rejected)s);
-- params: {"partition_key": "2018-11-05", "rejected": null, "rows_loaded": null, "source_key": "log_data/2018/11/2018-11-05-1.json", "version": "etag1"}

-- One object of a day being staged, recorded in the transaction that replaces the day's partition
-- (after its old rows were deleted); source_key '' marks a day staged from no object.
INSERT INTO "sparkify"."event_manifest" (partition_key, source_key, version, rows_loaded, rejected)
VALUES (%(partition_key)s, %(source_key)s, %(version)s, %(rows_loaded)s, %(rejected)s);
-- params: {"partition_key": "2018-11-05", "rejected": null, "rows_loaded": null, "source_key": "log_data/2018/11/2018-11-05-2.json", "version": "etag2"}

DROP TABLE _copy_events;
