-- The incremental model reads the table's highest load_seq before every merge.
CREATE INDEX IF NOT EXISTS {{ index_name('load_seq') }} ON {{ this }} (load_seq)
