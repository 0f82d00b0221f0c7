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

{#
    As json_minified, for text that may not be JSON at all: null when the
    engine's parser does not take it (DuckDB's json() raises instead, hence
    try()). Staging parses each record once with it; the strict check, the
    object test, the field reads and the content hash all read its result.
#}
{% macro json_minified_or_null(text_expression) -%}
    {{ return(adapter.dispatch('json_minified_or_null', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro default__json_minified_or_null(text_expression) -%}
    {{ agent_segments.json_minified(text_expression) }}
{%- endmacro %}

{% macro duckdb__json_minified_or_null(text_expression) -%}
    try({{ agent_segments.json_minified(text_expression) }})
{%- endmacro %}

{#
    True when `minified_text`, the output of json_minified, holds an object.
    DuckDB: minified text starts at its first token, so one character tells,
    without parsing again.
#}
{% macro json_minified_is_object(minified_text) -%}
    {{ return(adapter.dispatch('json_minified_is_object', 'agent_segments')(minified_text)) }}
{%- endmacro %}

{% macro default__json_minified_is_object(minified_text) -%}
    {{ agent_segments.json_kind(minified_text, "'$'") }} = 'object'
{%- endmacro %}

{% macro duckdb__json_minified_is_object(minified_text) -%}
    starts_with({{ minified_text }}, '{')
{%- endmacro %}
