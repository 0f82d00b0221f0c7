{#
    Valid JSON text with the whitespace between tokens removed, keys in
    their original order: the canonical text that content comparisons and
    input lengths use.
#}
{% macro json_minified(json_text) -%}
    {{ return(adapter.dispatch('json_minified', 'agent_segments')(json_text)) }}
{%- endmacro %}

{% macro duckdb__json_minified(json_text) -%}
    cast(json({{ json_text }}) as {{ dbt.type_string() }})
{%- endmacro %}

{# Spark: get_json_object re-serialises the object compactly, keys in order. #}
{% macro spark__json_minified(json_text) -%}
    get_json_object({{ json_text }}, '$')
{%- endmacro %}
