LOCK "sparkify"."songs";

CREATE TEMP TABLE _model AS -- One row per song_id from the staged catalogue; year 0 means unknown and becomes NULL.
SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration
FROM (
    SELECT song_id, title, artist_id, year, duration,
           ROW_NUMBER() OVER (PARTITION BY song_id ORDER BY source_key, line_number) AS rn
    FROM "sparkify"."staging_songs"
) ranked
WHERE rn = 1;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

MERGE INTO "sparkify"."songs" USING _model AS source
ON "sparkify"."songs"."song_id" = source."song_id"
WHEN MATCHED THEN UPDATE SET "title" = source."title", "artist_id" = source."artist_id", "year" = source."year", "duration" = source."duration"
WHEN NOT MATCHED THEN INSERT ("song_id", "title", "artist_id", "year", "duration") VALUES (source."song_id", source."title", source."artist_id", source."year", source."duration");

DROP TABLE _model;
