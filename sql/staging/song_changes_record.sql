{% from 'macros/song_match.sql' import song_match_key %}
-- Record the staged rows about to be removed (by = 'source_key': one object's rows, or
-- 'copied_song': the songs a Redshift COPY batch reloads) or just added (by = 'load_seq').
INSERT INTO {{ song_changes }} (song_id, artist_id, match_key)
SELECT song_id, artist_id, {{ song_match_key('title', 'artist_name', 'duration') }}
FROM {{ this }}
{% if by == 'source_key' -%}
WHERE source_key = %(source_key)s
{%- elif by == 'load_seq' -%}
WHERE load_seq = %(load_seq)s
{%- else -%}
WHERE song_id IN (SELECT copied.song_id FROM {{ copied }} AS copied)
{%- endif %}
