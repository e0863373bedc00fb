-- Calendar attributes of every songplay start_time in this partition.
SELECT DISTINCT
    start_time,
    CAST(EXTRACT(HOUR FROM start_time) AS SMALLINT)  AS hour,
    CAST(EXTRACT(DAY FROM start_time) AS SMALLINT)   AS day,
    CAST(EXTRACT(WEEK FROM start_time) AS SMALLINT)  AS week,
    CAST(EXTRACT(MONTH FROM start_time) AS SMALLINT) AS month,
    CAST(EXTRACT(YEAR FROM start_time) AS SMALLINT)  AS year,
    CAST(EXTRACT(DOW FROM start_time) AS SMALLINT)   AS weekday
FROM {{ songplays }}
WHERE partition_key = %(partition_key)s
