-- PostgreSQL only. The unique index (a primary key first) that makes a unique check on
-- %(columns)s of %(table)s unable to fail: valid, not partial, no expressions, and its key
-- columns a subset of the checked ones, all NOT NULL (a unique index lets NULLs repeat, the
-- unique check's GROUP BY does not). No row: the check must run its query.
SELECT idx.indexrelid::regclass::text AS proof
FROM pg_index AS idx
WHERE
    idx.indrelid = %(table)s::regclass
    AND idx.indisunique
    AND idx.indisvalid
    AND idx.indpred IS NULL
    AND idx.indexprs IS NULL
    AND NOT EXISTS (
        SELECT 1
        FROM GENERATE_SERIES(0, idx.indnkeyatts - 1) AS pos (n)
        INNER JOIN pg_attribute AS att
            ON att.attrelid = idx.indrelid AND att.attnum = idx.indkey[pos.n]
        WHERE NOT (att.attname = ANY(%(columns)s) AND att.attnotnull)
    )
ORDER BY idx.indisprimary DESC, idx.indexrelid ASC
LIMIT 1
