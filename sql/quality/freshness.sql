-- observed = hours between the newest value of the column and the end of the partition's day.
SELECT EXTRACT(EPOCH FROM (CAST(%(partition_end)s AS TIMESTAMP) - MAX({{ column }}))) / 3600.0 AS observed
FROM {{ this }}
{% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
