LOCK "sparkify"."staging_songs";

CREATE TEMP TABLE _copy_songs AS SELECT "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year" FROM "sparkify"."staging_songs" WHERE 1 = 0;

COPY _copy_songs ("num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year")
FROM 's3://udacity-dend/_sparkify/manifests/staging_songs-abc-2.json'
IAM_ROLE 'arn:aws:iam::123456789012:role/sparkify-redshift-copy'
FORMAT AS JSON 's3://udacity-dend/_sparkify/jsonpaths/staging_songs.json'
MANIFEST
TIMEFORMAT 'epochmillisecs'
REGION 'us-west-2'
MAXERROR 10
COMPUPDATE OFF STATUPDATE OFF;

DELETE FROM "sparkify"."staging_songs" WHERE song_id IN (SELECT song_id FROM _copy_songs);

INSERT INTO "sparkify"."staging_songs" ("source_key", "line_number", "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year")
SELECT %(source_key)s, ROW_NUMBER() OVER (ORDER BY song_id, artist_id, title),
       "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year"
FROM _copy_songs;
-- params: {"source_key": "s3://udacity-dend/_sparkify/manifests/staging_songs-abc-2.json"}

DELETE FROM "sparkify"."load_manifest" WHERE source_key = %(key)s;
-- params: {"key": "song_data/A/A/A/TRAAAAW128F429D538.json"}

INSERT INTO "sparkify"."load_manifest" (source_key, version, rows_loaded, rejected) VALUES (%(key)s, %(version)s, 0, 0);
-- params: {"key": "song_data/A/A/A/TRAAAAW128F429D538.json", "version": "e1"}

DELETE FROM "sparkify"."load_manifest" WHERE source_key = %(key)s;
-- params: {"key": "song_data/A/B/C/TRABCEI128F424C983.json"}

INSERT INTO "sparkify"."load_manifest" (source_key, version, rows_loaded, rejected) VALUES (%(key)s, %(version)s, 0, 0);
-- params: {"key": "song_data/A/B/C/TRABCEI128F424C983.json", "version": "e2"}

DROP TABLE _copy_songs;
