LOCK "sparkify"."staging_events";

DELETE FROM "sparkify"."staging_events" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

DELETE FROM "sparkify"."rejected_lines" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

DELETE FROM "sparkify"."event_manifest" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

-- One object of a day being staged, recorded in the transaction that replaces the day's partition
-- (after its old rows were deleted); source_key '' marks a day staged from no object.
INSERT INTO "sparkify"."event_manifest" (partition_key, source_key, version, rows_loaded, rejected)
VALUES (%(partition_key)s, %(source_key)s, %(version)s, %(rows_loaded)s, %(rejected)s);
-- params: {"partition_key": "2018-11-05", "rejected": 0, "rows_loaded": 0, "source_key": "", "version": ""}
