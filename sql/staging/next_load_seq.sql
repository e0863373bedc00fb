-- The next song-staging batch number, from the manifest (it keeps every batch's number, also when
-- the batch's rows were replaced since); run under the staging table's write lock, so batches are
-- numbered in the order they commit.
SELECT COALESCE(MAX(load_seq), 0) + 1 FROM {{ load_manifest }}
