-- For a day: whether a rollup run has started for its month (started), and whether the month's
-- latest rollup run read the day's current published version (read: then it holds the day's rows).
SELECT
    (
        SELECT COUNT(*)
        FROM {{ rollup_months }}
        WHERE month = %(month)s
    ) AS started,
    (
        SELECT COUNT(*)
        FROM {{ rollup_reads }} AS noted
        INNER JOIN {{ published_days }} AS published
            ON noted.partition_key = published.partition_key AND noted.version = published.version
        WHERE noted.month = %(month)s AND noted.partition_key = %(partition_key)s
    ) AS read
