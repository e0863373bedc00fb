-- observed = number of rows (in the partition when scoped); compared with min/max by the operator.
-- With expected_sql, expected = that query's number (e.g. the staged events this partition should
-- have produced), computed in the same statement so both numbers come from one snapshot.
-- A count has no failing rows, so there is no sample mode.
SELECT COUNT(*) AS observed{% if expected_query %},
       (
{{ expected_query }}
       ) AS expected{% endif %}
FROM {{ this }}
{% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
