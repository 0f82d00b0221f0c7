{#
    The value at `path` as text: a string's content, a number's literal, or
    the JSON text of an object or array; null when absent or JSON null.
#}
{% macro json_text(json_text, path) -%}
    {{ return(adapter.dispatch('json_text', 'agent_segments')(json_text, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(json_text, path) -%}
    json_extract_string({{ json_text }}, {{ path }})
{%- endmacro %}

{% macro spark__json_text(json_text, path) -%}
    get_json_object({{ json_text }}, {{ agent_segments.spark_json_path(path) }})
{%- endmacro %}
