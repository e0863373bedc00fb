-- PostgreSQL only. True when every one of %(columns)s in %(table)s has a NOT NULL constraint,
-- so a not_null check on them cannot fail. Columns that do not exist count as unproven.
SELECT COUNT(*) = CARDINALITY(%(columns)s::text []) AS proven
FROM pg_attribute
WHERE
    attrelid = %(table)s::regclass
    AND attname = ANY(%(columns)s)
    AND attnotnull
    AND NOT attisdropped
