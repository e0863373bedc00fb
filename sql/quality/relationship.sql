-- observed = non-NULL foreign-key values with no matching key in the referenced table; passes at 0.
SELECT COUNT(*) AS observed
FROM {{ this }} child
LEFT JOIN {{ to_table }} parent ON child.{{ column }} = parent.{{ to_column }}
WHERE child.{{ column }} IS NOT NULL
  AND parent.{{ to_column }} IS NULL
{% if partition_column %}  AND child.{{ partition_column }} = %(partition_key)s{% endif %}
