-- observed = hours between the newest value of the column and the reference time: the end of the
-- run's partition day (or the current UTC time for runs without a partition). NULL (no rows)
-- fails. sample mode returns that newest value and the reference time, to show the gap.
SELECT {% if sample %}MAX({{ column }}) AS newest, CAST(%(reference_time)s AS TIMESTAMP) AS reference_time, COUNT(*) AS rows_checked{% else %}EXTRACT(EPOCH FROM (CAST(%(reference_time)s AS TIMESTAMP) - MAX({{ column }}))) / 3600.0 AS observed{% endif %}
FROM {{ this }}
{% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
