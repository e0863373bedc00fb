-- observed = rows where the configured boolean expression is not true; passes at 0.
SELECT COUNT(*) AS observed
FROM {{ this }}
WHERE NOT COALESCE(({{ expression }}), FALSE)
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
