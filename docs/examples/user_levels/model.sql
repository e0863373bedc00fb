-- Level history of the users active in this partition, recomputed from ALL their staged events,
-- merged with mode upsert on (user_id, valid_from).
--
-- Order independence without deletes: a period starts at a user's first event of a day and at
-- every event of that day whose level differs from the previous one, so which keys exist depends
-- on one day's events only: loading days in another order never leaves a stale key behind.
-- The columns that look across days (previous_level, valid_to) are recomputed for a user in
-- every run that touches the user; the last such run has every staged day of that user, so the
-- final table equals one in-order load. Events sharing a ts count once, with the greatest level
-- ('paid' > 'free'), the tie-break the users dimension uses.
WITH affected AS (
    SELECT DISTINCT user_id
    FROM {{ staging_events }}
    WHERE partition_key = %(partition_key)s
      AND user_id <> ''
),

events AS (
    SELECT e.user_id, e.partition_key, e.ts, MAX(e.level) AS level
    FROM {{ staging_events }} AS e
    INNER JOIN affected AS a ON e.user_id = a.user_id
    WHERE e.level IS NOT NULL
    GROUP BY e.user_id, e.partition_key, e.ts
),

day_steps AS (
    SELECT user_id, partition_key, ts, level,
           LAG(level) OVER (PARTITION BY user_id, partition_key ORDER BY ts) AS day_previous_level
    FROM events
),

periods AS (
    SELECT user_id, partition_key, ts, level,
           LAG(level) OVER (PARTITION BY user_id ORDER BY ts) AS previous_level
    FROM day_steps
    WHERE day_previous_level IS NULL
       OR day_previous_level <> level
),

ended AS (
    SELECT user_id, partition_key, ts, level, previous_level,
           MIN(CASE WHEN previous_level <> level THEN ts END) OVER (
               PARTITION BY user_id ORDER BY ts ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
           ) AS next_change_ts
    FROM periods
)

SELECT
    user_id,
    TIMESTAMP 'epoch' + (ts / 1000.0) * INTERVAL '1 second' AS valid_from,
    TIMESTAMP 'epoch' + (next_change_ts / 1000.0) * INTERVAL '1 second' AS valid_to,
    level,
    previous_level,
    partition_key
FROM ended
