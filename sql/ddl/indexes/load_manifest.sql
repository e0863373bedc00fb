-- The next song-staging batch number is the highest recorded one + 1 (sql/staging/next_load_seq.sql).
CREATE INDEX IF NOT EXISTS {{ index_name('load_seq') }} ON {{ this }} (load_seq)
