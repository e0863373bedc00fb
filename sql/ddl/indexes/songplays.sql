-- Partition-scoped work on the fact (delete before reload, partition checks, the time model)
-- finds its rows through this index instead of scanning a table that grows every day.
CREATE INDEX IF NOT EXISTS {{ index_name('partition_key') }} ON {{ this }} (partition_key)
