-- observed = key values that occur more than once; the check passes at 0.
SELECT COUNT(*) AS observed
FROM (
    SELECT {{ columns | join(', ') }}
    FROM {{ this }}
    {% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
    GROUP BY {{ columns | join(', ') }}
    HAVING COUNT(*) > 1
) duplicates
