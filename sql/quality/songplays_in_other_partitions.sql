-- Songplays of this partition whose event is also loaded in another partition (the same event
-- delivered in two days' files: valid, loaded in each, reported here). Returns the failing rows.
-- Reads only the partition's rows and probes the others through the (start_time, songplay_id)
-- index (one event: one songplay_id and one start_time), so its cost does not grow with the fact
-- table (a table-wide GROUP BY did: bench/RESULTS.md, growth).
SELECT this_day.songplay_id, this_day.start_time, other_day.partition_key AS also_in_partition
FROM {{ songplays }} AS this_day
INNER JOIN {{ songplays }} AS other_day
    ON this_day.start_time = other_day.start_time
    AND this_day.songplay_id = other_day.songplay_id
WHERE this_day.partition_key = %(partition_key)s
  AND other_day.partition_key <> this_day.partition_key
