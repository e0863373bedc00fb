-- One object of a day being staged, recorded in the transaction that replaces the day's partition
-- (after its old rows were deleted); source_key '' marks a day staged from no object.
INSERT INTO {{ event_manifest }} (partition_key, source_key, version, rows_loaded, rejected)
VALUES (%(partition_key)s, %(source_key)s, %(version)s, %(rows_loaded)s, %(rejected)s)
