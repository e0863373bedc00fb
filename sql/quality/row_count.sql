-- observed = number of rows (in the partition when scoped); compared with min/max by the operator.
-- With expected_sql, expected = that query's number (e.g. the staged events this partition should
-- have produced), computed in the same statement so both numbers come from one snapshot.
-- With min alone the count stops at min rows (like dbt_utils' at_least_one): "at least min" is
-- all that is judged, so a table-scoped check costs min rows, not the table (observed = min then).
-- A count has no failing rows, so there is no sample mode.
{% set scoped %}{% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}{% endset -%}
SELECT COUNT(*) AS observed{% if expected_query %},
       (
{{ expected_query }}
       ) AS expected{% endif %}
FROM {% if count_limit %}(
    SELECT 1 AS counted_row
    FROM {{ this }}
    {{ scoped }}
    LIMIT %(count_limit)s
) AS counted{% else %}{{ this }}
{{ scoped }}{% endif %}
