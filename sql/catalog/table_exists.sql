-- Whether a table exists (information_schema: the same on PostgreSQL and Redshift).
SELECT COUNT(*) AS tables_found
FROM information_schema.tables
WHERE table_schema = %(schema)s AND table_name = %(table)s
