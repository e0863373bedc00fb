LOCK "sparkify"."time";

CREATE TEMP TABLE _model AS -- Calendar attributes of every songplay start_time in this partition.
SELECT DISTINCT
    start_time,
    CAST(EXTRACT(HOUR FROM start_time) AS SMALLINT)  AS hour,
    CAST(EXTRACT(DAY FROM start_time) AS SMALLINT)   AS day,
    CAST(EXTRACT(WEEK FROM start_time) AS SMALLINT)  AS week,
    CAST(EXTRACT(MONTH FROM start_time) AS SMALLINT) AS month,
    CAST(EXTRACT(YEAR FROM start_time) AS SMALLINT)  AS year,
    CAST(EXTRACT(DOW FROM start_time) AS SMALLINT)   AS weekday
FROM "sparkify"."songplays"
WHERE partition_key = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

INSERT INTO "sparkify"."time" ("start_time", "hour", "day", "week", "month", "year", "weekday")
SELECT "start_time", "hour", "day", "week", "month", "year", "weekday" FROM _model AS source
WHERE NOT EXISTS (SELECT 1 FROM "sparkify"."time" AS target WHERE target."start_time" = source."start_time");

DROP TABLE _model;
