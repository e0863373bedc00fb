{% from 'macros/song_match.sql' import song_match_key %}
-- Recompute the touched match keys from the staged catalogue: the smallest song_id (then
-- artist_id) wins, as the songplays model has always matched. Rows without a duration have no key.
INSERT INTO {{ song_lookup }} (match_key, song_id, artist_id)
SELECT match_key, song_id, artist_id
FROM (
    SELECT {{ song_match_key('title', 'artist_name', 'duration') }} AS match_key, song_id, artist_id,
           ROW_NUMBER() OVER (
               PARTITION BY {{ song_match_key('title', 'artist_name', 'duration') }}
               ORDER BY song_id, artist_id
           ) AS rn
    FROM {{ this }}
    WHERE {{ song_match_key('title', 'artist_name', 'duration') }}
          IN (SELECT changes.match_key FROM {{ song_changes }} AS changes)
) AS ranked
WHERE rn = 1
