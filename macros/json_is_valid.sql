{# True when `text_expression` is valid JSON text. #}
{% macro json_is_valid(text_expression) -%}
    {{ return(adapter.dispatch('json_is_valid', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__json_is_valid(text_expression) -%}
    coalesce(json_valid({{ text_expression }}), false)
{%- endmacro %}
