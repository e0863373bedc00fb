-- Whether a rollup run has started for the month (1) or not (0).
SELECT COUNT(*) AS started
FROM {{ rollup_months }}
WHERE month = %(month)s
