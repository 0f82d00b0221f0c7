{#
    True when the top-level key `key_expression` of the JSON object text
    `json_text` carries no usable value: absent, null, a string of only
    whitespace, or an empty array or object. This is what "a required input
    field is missing" means.
#}
{% macro json_value_is_blank(json_text, key_expression) -%}
    {{ return(adapter.dispatch('json_value_is_blank', 'agent_segments')(json_text, key_expression)) }}
{%- endmacro %}

{% macro default__json_value_is_blank(json_text, key_expression) -%}
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
{% macro spark__json_value_is_blank(json_text, key_expression) -%}
    {%- set value = "get_json_object(" ~ json_text ~ ", concat('$[''', " ~ key_expression ~ ", ''']'))" -%}
    coalesce(
        {{ value }} is null
        or {{ agent_segments.trim_whitespace(value) }} is null
        or {{ value }} in ('[]', '{}'),
        true
    )
{%- endmacro %}
