-- observed = rows where any of the columns is NULL; the check passes at 0.
SELECT COUNT(*) AS observed
FROM {{ this }}
WHERE ({% for c in columns %}{{ c }} IS NULL{% if not loop.last %} OR {% endif %}{% endfor %})
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
