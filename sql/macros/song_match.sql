{#- The key a played song is matched to the catalogue by: repaired title + artist name + duration to
    3 decimals, hashed so one fixed-size indexed column holds it (a btree over two VARCHAR(1024)
    columns can exceed PostgreSQL's index row limit). Each text is length-prefixed, so no two
    different (title, artist) pairs hash the same input. NULL when any part is NULL: never matches. -#}
{% macro song_match_key(title, artist_name, duration) -%}
MD5(
    CAST(LENGTH({{ title }}) AS VARCHAR) || ':' || {{ title }}
    || CAST(LENGTH({{ artist_name }}) AS VARCHAR) || ':' || {{ artist_name }}
    || ':' || CAST(ROUND(CAST({{ duration }} AS NUMERIC(18, 5)), 3) AS VARCHAR)
)
{%- endmacro %}
