-- Failing rows: a non-NULL foreign-key value with no matching key in the referenced table.
-- observed = their count; passes at 0. sample mode returns up to sample_limit (10) of the child rows.
SELECT {% if sample %}child.*{% else %}COUNT(*) AS observed{% endif %}
FROM {{ this }} child
LEFT JOIN {{ to_table }} parent ON child.{{ column }} = parent.{{ to_column }}
WHERE child.{{ column }} IS NOT NULL
  AND parent.{{ to_column }} IS NULL
{% if partition_column %}  AND child.{{ partition_column }} = %(partition_key)s{% endif %}
{% if sample %}LIMIT %(sample_limit)s{% endif %}
