-- song_ids staged with different content (e.g. the same song in two files that disagree).
-- marts/songs.sql and marts/artists.sql keep the first record by source key and line, whatever
-- order files were loaded in; this returns each such song_id with its number of versions.
SELECT song_id, COUNT(*) AS versions
FROM (
    SELECT DISTINCT song_id, title, artist_id, artist_name, artist_location, artist_latitude,
                    artist_longitude, duration, year
    FROM {{ staging_songs }}
) versions
GROUP BY song_id
HAVING COUNT(*) > 1
