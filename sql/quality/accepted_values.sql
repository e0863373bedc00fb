-- observed = non-NULL values outside the accepted list (passed as bind parameters); passes at 0.
SELECT COUNT(*) AS observed
FROM {{ this }}
WHERE {{ column }} IS NOT NULL
  AND {{ column }} NOT IN ({% for p in value_params %}%({{ p }})s{% if not loop.last %}, {% endif %}{% endfor %})
{% if partition_column %}  AND {{ partition_column }} = %(partition_key)s{% endif %}
