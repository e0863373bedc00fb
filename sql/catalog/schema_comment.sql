-- The schema's comment, where ensure_schema keeps the digest of the DDL it applied (NULL: none yet).
SELECT obj_description(oid, 'pg_namespace')
FROM pg_namespace
WHERE nspname = %(schema)s
