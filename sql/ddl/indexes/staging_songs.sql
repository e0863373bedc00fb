{% from 'macros/song_match.sql' import song_match_key %}
-- Song staging works on the rows one batch changes, found through these instead of scanning the
-- catalogue: the next batch number, rows sharing a replaced row's song or artist, and the rows
-- of a match key song_lookup recomputes.
CREATE INDEX IF NOT EXISTS {{ index_name('load_seq') }} ON {{ this }} (load_seq);
CREATE INDEX IF NOT EXISTS {{ index_name('song_id') }} ON {{ this }} (song_id);
CREATE INDEX IF NOT EXISTS {{ index_name('artist_id') }} ON {{ this }} (artist_id);
CREATE INDEX IF NOT EXISTS {{ index_name('match_key') }}
ON {{ this }} ({{ song_match_key('title', 'artist_name', 'duration') }})
