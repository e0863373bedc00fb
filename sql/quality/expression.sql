-- Failing rows: the configured boolean expression is not true (NULL counts as failing).
-- observed = their count; passes at 0. sample mode returns up to sample_limit (10) of those rows.
SELECT {% if sample %}*{% else %}COUNT(*) AS observed{% endif %}
FROM {{ this }}
WHERE NOT COALESCE(({{ expression }}), FALSE)
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
{% if sample %}LIMIT %(sample_limit)s{% endif %}
