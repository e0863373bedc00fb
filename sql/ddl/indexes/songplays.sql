-- Partition-scoped work on the fact (delete before reload, partition checks, the time model)
-- finds its rows through this index instead of scanning a table that grows every day.
CREATE INDEX IF NOT EXISTS {{ index_name('partition_key') }} ON {{ this }} (partition_key);
-- The check songplays_event_in_one_partition probes the other partitions for this partition's ids.
CREATE INDEX IF NOT EXISTS {{ index_name('songplay_id') }} ON {{ this }} (songplay_id)
