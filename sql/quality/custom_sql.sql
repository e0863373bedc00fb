-- Failing rows: whatever the user's query returns. observed = their count; passes at 0.
-- sample mode returns up to sample_limit (10) of them.
SELECT {% if sample %}*{% else %}COUNT(*) AS observed{% endif %}
FROM (
{{ query }}
) failing
{% if sample %}LIMIT %(sample_limit)s{% endif %}
