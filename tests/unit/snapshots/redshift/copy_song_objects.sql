LOCK "sparkify"."staging_songs";

-- What one song-staging batch removed or added (this transaction only): whose songs and artists
-- to merge again, and which match keys of song_lookup to recompute.
CREATE TEMPORARY TABLE "_song_changes" (
    song_id   VARCHAR(32),
    artist_id VARCHAR(32),
    match_key VARCHAR(32)
);

-- The next song-staging batch number, from the manifest (it keeps every batch's number, also when
-- the batch's rows were replaced since); run under the staging table's write lock, so batches are
-- numbered in the order they commit.
SELECT COALESCE(MAX(load_seq), 0) + 1 FROM "sparkify"."load_manifest";

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

-- Record the staged rows about to be removed (by = 'source_key': one object's rows, or
-- 'copied_song': the songs a Redshift COPY batch reloads) or just added (by = 'load_seq').
INSERT INTO "_song_changes" (song_id, artist_id, match_key)
SELECT song_id, artist_id, MD5(
    CAST(LENGTH(title) AS VARCHAR) || ':' || title
    || CAST(LENGTH(artist_name) AS VARCHAR) || ':' || artist_name
    || ':' || CAST(ROUND(CAST(duration AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
FROM "sparkify"."staging_songs"
WHERE song_id IN (SELECT copied.song_id FROM _copy_songs AS copied);

DELETE FROM "sparkify"."staging_songs" WHERE song_id IN (SELECT song_id FROM _copy_songs);

INSERT INTO "sparkify"."staging_songs" ("source_key", "line_number", "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year", "load_seq")
SELECT %(source_key)s, ROW_NUMBER() OVER (ORDER BY song_id, artist_id, title),
       "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name", "song_id", "title", "duration", "year", %(load_seq)s
FROM _copy_songs;
-- params: {"load_seq": 0, "source_key": "s3://udacity-dend/_sparkify/manifests/staging_songs-abc-2.json"}

DELETE FROM "sparkify"."load_manifest" WHERE source_key = %(key)s;
-- params: {"key": "song_data/A/A/A/TRAAAAW128F429D538.json"}

INSERT INTO "sparkify"."load_manifest" (source_key, version, rows_loaded, rejected, load_seq) VALUES (%(key)s, %(version)s, 0, 0, %(load_seq)s);
-- params: {"key": "song_data/A/A/A/TRAAAAW128F429D538.json", "load_seq": 0, "version": "e1"}

DELETE FROM "sparkify"."load_manifest" WHERE source_key = %(key)s;
-- params: {"key": "song_data/A/B/C/TRABCEI128F424C983.json"}

INSERT INTO "sparkify"."load_manifest" (source_key, version, rows_loaded, rejected, load_seq) VALUES (%(key)s, %(version)s, 0, 0, %(load_seq)s);
-- params: {"key": "song_data/A/B/C/TRABCEI128F424C983.json", "load_seq": 0, "version": "e2"}

-- Record the staged rows about to be removed (by = 'source_key': one object's rows, or
-- 'copied_song': the songs a Redshift COPY batch reloads) or just added (by = 'load_seq').
INSERT INTO "_song_changes" (song_id, artist_id, match_key)
SELECT song_id, artist_id, MD5(
    CAST(LENGTH(title) AS VARCHAR) || ':' || title
    || CAST(LENGTH(artist_name) AS VARCHAR) || ':' || artist_name
    || ':' || CAST(ROUND(CAST(duration AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
FROM "sparkify"."staging_songs"
WHERE load_seq = %(load_seq)s;
-- params: {"load_seq": 0}

-- Rows of other objects that share a song_id (column = 'song_id') or an artist_id ('artist_id')
-- with a removed row take this batch's load_seq: the record that wins for that song or artist
-- may have changed, so the incremental songs and artists models merge it again.
UPDATE "sparkify"."staging_songs"
SET load_seq = %(load_seq)s
WHERE load_seq <> %(load_seq)s
  AND "song_id" IN (SELECT changes."song_id" FROM "_song_changes" AS changes);
-- params: {"load_seq": 0}

-- Rows of other objects that share a song_id (column = 'song_id') or an artist_id ('artist_id')
-- with a removed row take this batch's load_seq: the record that wins for that song or artist
-- may have changed, so the incremental songs and artists models merge it again.
UPDATE "sparkify"."staging_songs"
SET load_seq = %(load_seq)s
WHERE load_seq <> %(load_seq)s
  AND "artist_id" IN (SELECT changes."artist_id" FROM "_song_changes" AS changes);
-- params: {"load_seq": 0}

-- Forget the winners of every match key the batch touched (recomputed by song_lookup_fill.sql).
DELETE FROM "sparkify"."song_lookup"
WHERE match_key IN (SELECT changes.match_key FROM "_song_changes" AS changes);

-- Recompute the touched match keys from the staged catalogue: the smallest song_id (then
-- artist_id) wins, as the songplays model has always matched. Rows without a duration have no key.
INSERT INTO "sparkify"."song_lookup" (match_key, song_id, artist_id)
SELECT match_key, song_id, artist_id
FROM (
    SELECT MD5(
    CAST(LENGTH(title) AS VARCHAR) || ':' || title
    || CAST(LENGTH(artist_name) AS VARCHAR) || ':' || artist_name
    || ':' || CAST(ROUND(CAST(duration AS NUMERIC(18, 5)), 3) AS VARCHAR)
) AS match_key, song_id, artist_id,
           ROW_NUMBER() OVER (
               PARTITION BY MD5(
    CAST(LENGTH(title) AS VARCHAR) || ':' || title
    || CAST(LENGTH(artist_name) AS VARCHAR) || ':' || artist_name
    || ':' || CAST(ROUND(CAST(duration AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
               ORDER BY song_id, artist_id
           ) AS rn
    FROM "sparkify"."staging_songs"
    WHERE MD5(
    CAST(LENGTH(title) AS VARCHAR) || ':' || title
    || CAST(LENGTH(artist_name) AS VARCHAR) || ':' || artist_name
    || ':' || CAST(ROUND(CAST(duration AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
          IN (SELECT changes.match_key FROM "_song_changes" AS changes)
) AS ranked
WHERE rn = 1;

-- The batch's change table is done with: dropped before commit, so the next batch on the same
-- connection creates its own.
DROP TABLE "_song_changes";

DROP TABLE _copy_songs;
