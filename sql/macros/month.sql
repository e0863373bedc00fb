{#- The day keys (YYYY-MM-DD) in `column` that belong to the month `month` (a YYYY-MM value or
    bind marker): every day of a month sorts between YYYY-MM-01 and YYYY-MM-31 as text, so the
    fact's partition index serves the range. -#}
{% macro days_of_month(column, month) -%}
{{ column }} BETWEEN {{ month }} || '-01' AND {{ month }} || '-31'
{%- endmacro %}
