LOCK "sparkify"."songplays";

CREATE TEMP TABLE _model AS -- Songplays of one partition: every NextSong event of a logged-in user (user_id '' = logged out).
-- Logs are delivered at least once: events sharing the identity (user, session, item, ts) are one
-- songplay. Exact duplicates collapse; duplicates whose content differs keep the first by their
-- content (so the result never depends on file or line order) and are reported by the warn check
-- staging_events_conflicting_duplicates.
-- Songs match on repaired title + artist name + duration to 3 decimals; when the catalogue holds
-- several candidates the smallest song_id wins, so the result never depends on load order. The
-- winner per key is kept in song_lookup by song staging: one index probe per event, whatever the
-- catalogue's size.
-- Staging rejects durations outside [0, 1e6] s, so the NUMERIC(18, 5) casts cannot overflow.
WITH events AS (
    SELECT partition_key, user_id, session_id, item_in_session, ts, level,
           song_clean, artist_clean, length, location, user_agent,
           ROW_NUMBER() OVER (
               PARTITION BY user_id, session_id, item_in_session, ts
               ORDER BY level, song_clean, artist_clean, length, location, user_agent
           ) AS duplicate_rank
    FROM "sparkify"."staging_events"
    WHERE partition_key = %(partition_key)s
      AND page = 'NextSong'
      AND user_id <> ''
)
SELECT
    MD5(e.user_id || '|' || CAST(e.session_id AS VARCHAR) || '|'
        || CAST(e.item_in_session AS VARCHAR) || '|' || CAST(e.ts AS VARCHAR)) AS songplay_id,
    e.partition_key,
    TIMESTAMP 'epoch' + (e.ts / 1000.0) * INTERVAL '1 second' AS start_time,
    e.user_id,
    e.level,
    c.song_id,
    c.artist_id,
    e.session_id,
    e.location,
    TRIM(BOTH '"' FROM e.user_agent) AS user_agent
FROM events e
LEFT JOIN "sparkify"."song_lookup" c
       ON c.match_key = MD5(
    CAST(LENGTH(e.song_clean) AS VARCHAR) || ':' || e.song_clean
    || CAST(LENGTH(e.artist_clean) AS VARCHAR) || ':' || e.artist_clean
    || ':' || CAST(ROUND(CAST(e.length AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
WHERE e.duplicate_rank = 1;
-- params: {"partition_key": "2018-11-05"}

SELECT * FROM _model LIMIT 0;

DELETE FROM "sparkify"."songplays" WHERE "partition_key" = %(partition_key)s;
-- params: {"partition_key": "2018-11-05"}

INSERT INTO "sparkify"."songplays" ("songplay_id", "partition_key", "start_time", "user_id", "level", "song_id", "artist_id", "session_id", "location", "user_agent") SELECT "songplay_id", "partition_key", "start_time", "user_id", "level", "song_id", "artist_id", "session_id", "location", "user_agent" FROM _model;

DROP TABLE _model;
