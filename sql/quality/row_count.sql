-- observed = number of rows (in the partition when scoped); compared with min/max by the operator.
SELECT COUNT(*) AS observed
FROM {{ this }}
{% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
