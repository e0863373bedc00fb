-- One row per artist_id; an artist appears once per song, the first record by source key wins.
-- Empty locations become NULL.
SELECT artist_id, artist_name AS name, NULLIF(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM (
    SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude,
           ROW_NUMBER() OVER (PARTITION BY artist_id ORDER BY source_key, line_number) AS rn
    FROM {{ staging_songs }}
) ranked
WHERE rn = 1
