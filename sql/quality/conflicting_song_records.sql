{% from 'macros/version_key.sql' import version_key %}
-- song_ids staged with different content (e.g. the same song in two files that disagree), among
-- the songs of the latest song-staging batch: each conflict is reported by the runs after the
-- batch that brought it, and a partition's check reads that batch's songs, not the catalogue.
-- marts/songs.sql and marts/artists.sql keep the first record by source key and line, whatever
-- order files were loaded in; this returns each such song_id with its number of versions.
-- The versions are counted by a scalar subquery per song of the batch, which PostgreSQL runs as
-- one song_id index probe per song: its planner cannot know the batch is small (it estimates a
-- batch from the number of batches) and, given a join, scans the whole catalogue instead.
SELECT song_id, versions
FROM (
    SELECT batch.song_id,
           (
               SELECT COUNT(DISTINCT {{ version_key(['title', 'artist_id', 'artist_name', 'artist_location',
                                                     'artist_latitude', 'artist_longitude', 'duration', 'year'],
                                                    'other') }})
               FROM {{ staging_songs }} AS other
               WHERE other.song_id = batch.song_id
           ) AS versions
    FROM (
        SELECT DISTINCT latest.song_id
        FROM {{ staging_songs }} AS latest
        WHERE latest.load_seq = (SELECT MAX(batches.load_seq) FROM {{ staging_songs }} AS batches)
    ) AS batch
) AS counted
WHERE versions > 1
