-- Failing rows: a non-NULL value outside the accepted list (passed as bind parameters).
-- observed = their count; passes at 0. sample mode returns up to sample_limit (10) of those rows.
SELECT {% if sample %}*{% else %}COUNT(*) AS observed{% endif %}
FROM {{ this }}
WHERE {{ column }} IS NOT NULL
  AND {{ column }} NOT IN ({% for p in value_params %}%({{ p }})s{% if not loop.last %}, {% endif %}{% endfor %})
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
{% if sample %}LIMIT %(sample_limit)s{% endif %}
