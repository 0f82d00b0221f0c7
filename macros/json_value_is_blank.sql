{#
    True when the top-level key `key_expression` of the JSON object text
    `json_text` carries no usable value: absent, null, a string of only
    whitespace, or an empty array or object. This is what "a required input
    field is missing" means. `object_entries`, when given, is the column
    json_object_entries(json_text) computed once per object, which spares
    a parse per key where the engine uses it.
#}
{% macro json_value_is_blank(json_text, key_expression, object_entries=none) -%}
    {{ return(adapter.dispatch('json_value_is_blank', 'agent_segments')(json_text, key_expression, object_entries)) }}
{%- endmacro %}

{% macro default__json_value_is_blank(json_text, key_expression, object_entries=none) -%}
    {%- set path = agent_segments.json_key_path(key_expression) -%}
    {%- set value = agent_segments.json_text(json_text, path) -%}
    coalesce(
        {{ agent_segments.json_kind(json_text, path) }} in ('null', 'string', 'array', 'object')
        and (
            {{ value }} is null
            or {{ agent_segments.trim_whitespace(value) }} is null
            or {{ value }} in ('[]', '{}')
        ),
        true
    )
{%- endmacro %}

{#
    Spark: the key is a column, and Spark's typed JSON access needs a
    constant path. The same rule from the value's text alone: a number or a
    boolean never reads as null, blank, '[]' or '{}'.
#}
{% macro spark__json_value_is_blank(json_text, key_expression, object_entries=none) -%}
    {%- set value = "get_json_object(" ~ json_text ~ ", concat('$[''', " ~ key_expression ~ ", ''']'))" -%}
    coalesce(
        {{ value }} is null
        or {{ agent_segments.trim_whitespace(value) }} is null
        or {{ value }} in ('[]', '{}'),
        true
    )
{%- endmacro %}

{#
    DuckDB: the value is looked up in the object's entries (a map parsed
    once per object). An object with a repeated key has no map; it is read
    by path, as the default does.
#}
{% macro duckdb__json_value_is_blank(json_text, key_expression, object_entries=none) -%}
    {%- if object_entries is none -%}
        {{ agent_segments.default__json_value_is_blank(json_text, key_expression) }}
    {%- else -%}
        {%- set value_json = object_entries ~ '[' ~ key_expression ~ ']' -%}
        {%- set value = 'json_extract_string(' ~ value_json ~ ", '$')" -%}
        case
            when {{ object_entries }} is null
                then {{ agent_segments.default__json_value_is_blank(json_text, key_expression) }}
            else coalesce(
                {{ agent_segments.duckdb_json_kind_of_type('json_type(' ~ value_json ~ ')') }}
                in ('null', 'string', 'array', 'object')
                and (
                    {{ value }} is null
                    or {{ agent_segments.trim_whitespace(value) }} is null
                    or {{ value }} in ('[]', '{}')
                ),
                true
            )
        end
    {%- endif -%}
{%- endmacro %}

{#
    The entries of a JSON object, for json_value_is_blank: on DuckDB a map
    from key to JSON value (null when a key repeats); elsewhere the text.
#}
{% macro json_object_entries(json_text) -%}
    {{ return(adapter.dispatch('json_object_entries', 'agent_segments')(json_text)) }}
{%- endmacro %}

{% macro default__json_object_entries(json_text) -%}
    {{ json_text }}
{%- endmacro %}

{% macro duckdb__json_object_entries(json_text) -%}
    json_transform({{ json_text }}, '"MAP(VARCHAR, JSON)"')
{%- endmacro %}
