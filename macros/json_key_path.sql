{#
    A JSON path selecting the top-level key `key_expression` (a SQL string
    expression, e.g. a column or a quoted literal). The key is quoted so
    keys with dots or spaces address one key, not a nested path.
#}
{% macro json_key_path(key_expression) -%}
    {{ dbt.concat(["'$.\"'", key_expression, "'\"'"]) }}
{%- endmacro %}
