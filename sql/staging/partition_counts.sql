-- Rows of one partition in staging and in rejected_lines, read in one statement (one snapshot)
-- after the COPY committed: the record accounting compares them with what the parser counted.
SELECT
    (
        SELECT COUNT(*) FROM {{ this }}
        WHERE partition_key = %(partition_key)s
    ) AS staged,
    (
        SELECT COUNT(*) FROM {{ rejected_lines }}
        WHERE partition_key = %(partition_key)s
    ) AS rejected
