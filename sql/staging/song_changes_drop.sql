-- The batch's change table is done with: dropped before commit, so the next batch on the same
-- connection creates its own.
DROP TABLE {{ song_changes }}
