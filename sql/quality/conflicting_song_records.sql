-- song_ids staged with different content (e.g. the same song in two files that disagree), among
-- the songs of the latest song-staging batch: each conflict is reported by the runs after the
-- batch that brought it, and a partition's check reads that batch's songs, not the catalogue.
-- marts/songs.sql and marts/artists.sql keep the first record by source key and line, whatever
-- order files were loaded in; this returns each such song_id with its number of versions.
SELECT song_id, COUNT(*) AS versions
FROM (
    SELECT DISTINCT song_id, title, artist_id, artist_name, artist_location, artist_latitude,
                    artist_longitude, duration, year
    FROM {{ staging_songs }}
    WHERE song_id IN (
        SELECT latest.song_id
        FROM {{ staging_songs }} AS latest
        WHERE latest.load_seq = (SELECT MAX(batches.load_seq) FROM {{ staging_songs }} AS batches)
    )
) AS versions
GROUP BY song_id
HAVING COUNT(*) > 1
