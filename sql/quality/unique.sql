-- Failing rows: key values that occur more than once. observed = how many such values; passes at 0.
-- sample mode returns up to sample_limit (10) duplicated values with their number of occurrences.
{% if not sample %}SELECT COUNT(*) AS observed
FROM (
{% endif %}    SELECT {{ columns | join(', ') }}{% if sample %}, COUNT(*) AS occurrences{% endif %}
    FROM {{ this }}
    {% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
    GROUP BY {{ columns | join(', ') }}
    HAVING COUNT(*) > 1
{% if sample %}    ORDER BY COUNT(*) DESC, {{ columns | join(', ') }}
    LIMIT %(sample_limit)s{% else %}) duplicates{% endif %}
