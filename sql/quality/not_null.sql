-- Failing rows: any of the columns is NULL. observed = their count; passes at 0.
-- sample mode returns up to sample_limit (10) of the failing rows themselves.
SELECT {% if sample %}*{% else %}COUNT(*) AS observed{% endif %}
FROM {{ this }}
WHERE ({% for c in columns %}{{ c }} IS NULL{% if not loop.last %} OR {% endif %}{% endfor %})
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
{% if sample %}LIMIT %(sample_limit)s{% endif %}
