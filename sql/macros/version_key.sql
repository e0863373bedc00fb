{#- One string per distinct combination of the given columns, NULL-safe and unambiguous: each
    value is cast to text and length-prefixed, a NULL is '~' (no prefix starts with '~'), so
    COUNT(DISTINCT version_key(...)) counts what SELECT DISTINCT over the columns would. -#}
{% macro version_key(columns, alias) -%}
{%- for column in columns %}
{{ '|| ' if not loop.first }}COALESCE(CAST(LENGTH(CAST({{ alias }}.{{ column }} AS VARCHAR)) AS VARCHAR) || ':' || CAST({{ alias }}.{{ column }} AS VARCHAR), '~')
{%- endfor %}
{%- endmacro %}
