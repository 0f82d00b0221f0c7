{#
    The top-level keys of the JSON object text `json_text` that carry a
    usable value, as a JSON array of strings (text, so every engine and
    every test fixture reads it the same way); null when the text is null.
    A value is not usable when it is null, a string of only whitespace
    (trim_whitespace), or an empty array or object: "a required input field
    is missing" means its key is not in this list. Staging computes it once
    per record, so no later model parses the input again and the input
    text itself need not be stored.
#}
{% macro json_filled_keys(json_text) -%}
    {{ return(adapter.dispatch('json_filled_keys', 'agent_segments')(json_text)) }}
{%- endmacro %}

{% macro default__json_filled_keys(json_text) -%}
    {{ exceptions.raise_compiler_error(
        "json_filled_keys has no implementation for the " ~ target.type ~ " adapter: add "
        ~ target.type ~ "__json_filled_keys (macros/json_filled_keys.sql)"
    ) }}
{%- endmacro %}

{#
    A top-level value of a JSON object, read as text (a string's content, a
    nested array or object as its JSON text, JSON null as null), carries no
    usable value. A search for one non-whitespace character (is_blank), not
    a trim: inputs hold long free text.
#}
{% macro json_text_value_is_blank(value_text) -%}
    coalesce(
        {{ value_text }} is null
        or {{ agent_segments.is_blank(value_text) }}
        or {{ value_text }} in ('[]', '{}'),
        true
    )
{%- endmacro %}

{#
    DuckDB: the object parsed once into a map from key to value as text. An
    object with a repeated key has no map; its keys are then read one by one
    by path, which takes a key's first value. Most inputs have no blank value
    at all, and in compact JSON (as staging writes objects) a blank value
    follows its key's colon directly as null, "", " ..., "\..., [] or {}: an
    input holding none of these six has every key filled, and its keys alone
    are read (several times cheaper than the map). Any input holding one,
    nested or inside a string too, takes the map.
#}
{% macro duckdb__json_filled_keys(json_text) -%}
    {%- set entries = "map_entries(json_transform(" ~ json_text ~ ", '\"MAP(VARCHAR, VARCHAR)\"'))" -%}
    {%- set by_path = 'json_extract_string(' ~ json_text ~ ', ' ~ agent_segments.json_key_path('input_key') ~ ')' -%}
    cast(to_json(case
        when not (
            contains({{ json_text }}, ':null')
            or contains({{ json_text }}, ':""')
            or contains({{ json_text }}, ':" ')
            or contains({{ json_text }}, ':"\')
            or contains({{ json_text }}, ':[]')
            or contains({{ json_text }}, ':{}')
        )
            then json_keys({{ json_text }})
        else coalesce(
            list_transform(
                list_filter({{ entries }}, lambda entry: not {{ agent_segments.json_text_value_is_blank('entry.value') }}),
                lambda entry: entry.key
            ),
            list_filter(
                list_distinct(json_keys({{ json_text }})),
                lambda input_key: not {{ agent_segments.json_text_value_is_blank(by_path) }}
            )
        )
    end) as {{ dbt.type_string() }})
{%- endmacro %}

{#
    Spark: the object read as a map of text values. Records with a repeated
    key never get here: Spark's parser rejects them as malformed JSON.
#}
{% macro spark__json_filled_keys(json_text) -%}
    to_json(map_keys(map_filter(
        from_json({{ json_text }}, 'map<string,string>'),
        (input_key, input_value) -> not {{ agent_segments.json_text_value_is_blank('input_value') }}
    )))
{%- endmacro %}

{#
    Whether the JSON array of strings `json_array_text` (as json_filled_keys
    writes it) holds the string `value_expression`; null when the array is
    null.
#}
{% macro json_array_contains(json_array_text, value_expression) -%}
    {{ return(adapter.dispatch('json_array_contains', 'agent_segments')(json_array_text, value_expression)) }}
{%- endmacro %}

{% macro default__json_array_contains(json_array_text, value_expression) -%}
    list_contains(from_json({{ json_array_text }}, '["VARCHAR"]'), {{ value_expression }})
{%- endmacro %}

{% macro spark__json_array_contains(json_array_text, value_expression) -%}
    array_contains(from_json({{ json_array_text }}, 'array<string>'), {{ value_expression }})
{%- endmacro %}
