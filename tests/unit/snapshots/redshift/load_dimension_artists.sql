LOCK "sparkify"."artists";

CREATE TEMP TABLE _model AS -- One row per artist_id; an artist appears once per song, the first record by source key wins.
-- Empty locations become NULL.
SELECT artist_id, artist_name AS name, NULLIF(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM (
    SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude,
           ROW_NUMBER() OVER (PARTITION BY artist_id ORDER BY source_key, line_number) AS rn
    FROM "sparkify"."staging_songs"
) ranked
WHERE rn = 1;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

MERGE INTO "sparkify"."artists" USING _model AS source
ON "sparkify"."artists"."artist_id" = source."artist_id"
WHEN MATCHED THEN UPDATE SET "name" = source."name", "location" = source."location", "latitude" = source."latitude", "longitude" = source."longitude"
WHEN NOT MATCHED THEN INSERT ("artist_id", "name", "location", "latitude", "longitude") VALUES (source."artist_id", source."name", source."location", source."latitude", source."longitude");

DROP TABLE _model;
