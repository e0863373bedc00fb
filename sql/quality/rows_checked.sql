-- A failing-row check's count together with the rows it looked at (the run's partition for a
-- partition-scoped check), in one statement so both numbers come from one snapshot: a share
-- threshold compares failing rows / rows checked of the same moment. Only rendered when a
-- warn_if/error_if uses share_gt, so other checks do not pay for the extra count.
SELECT
    counted.observed,
    (
        SELECT COUNT(*)
        FROM {{ this }}
        {% if partition_column %}WHERE {{ partition_column }} = %(partition_key)s{% endif %}
    ) AS rows_checked
FROM (
{{ count_query }}
) counted
