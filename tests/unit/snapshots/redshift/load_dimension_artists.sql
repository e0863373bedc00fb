LOCK "sparkify"."artists";

CREATE TEMP TABLE _model AS -- One row per artist_id; an artist appears once per song, the first record by source key wins.
-- Empty locations become NULL. Incremental like songs.sql: only the artist_ids with rows staged
-- (or touched) after the table's highest load_seq are merged.
WITH changed AS (
    SELECT DISTINCT staged.artist_id
    FROM "sparkify"."staging_songs" AS staged
    WHERE staged.load_seq > (SELECT COALESCE(MAX(merged.load_seq), 0) FROM "sparkify"."artists" AS merged)
)
SELECT artist_id, artist_name AS name, NULLIF(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude, load_seq
FROM (
    SELECT s.artist_id, s.artist_name, s.artist_location, s.artist_latitude, s.artist_longitude,
           MAX(s.load_seq) OVER (PARTITION BY s.artist_id) AS load_seq,
           ROW_NUMBER() OVER (PARTITION BY s.artist_id ORDER BY s.source_key, s.line_number) AS rn
    FROM "sparkify"."staging_songs" AS s
    WHERE s.artist_id IN (SELECT changed.artist_id FROM changed)
) AS ranked
WHERE rn = 1;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

MERGE INTO "sparkify"."artists" USING _model AS source
ON "sparkify"."artists"."artist_id" = source."artist_id"
WHEN MATCHED THEN UPDATE SET "name" = source."name", "location" = source."location", "latitude" = source."latitude", "longitude" = source."longitude", "load_seq" = source."load_seq"
WHEN NOT MATCHED THEN INSERT ("artist_id", "name", "location", "latitude", "longitude", "load_seq") VALUES (source."artist_id", source."name", source."location", source."latitude", source."longitude", source."load_seq");

DROP TABLE _model;
