-- observed = rows returned by a user query that selects failing rows; passes at 0.
SELECT COUNT(*) AS observed
FROM (
{{ query }}
) failing
