{#
    Reading many fields of one JSON record. `json_fields_parsed` is a column
    computed once per record from the fields' `paths`; `json_field_kind` and
    `json_field_text` then give field number `position` (1-based, in the
    order of `paths`) as json_kind and json_text would.
    DuckDB reads every field's type and text in two passes over the record
    (json_type / json_extract_string with a list of paths); reading twenty
    paths one by one would parse it forty times. Other engines read each
    path from the record itself, and the column is a placeholder.
#}
{% macro json_fields_parsed(json_text, paths) -%}
    {{ return(adapter.dispatch('json_fields_parsed', 'agent_segments')(json_text, paths)) }}
{%- endmacro %}

{% macro default__json_fields_parsed(json_text, paths) -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__json_fields_parsed(json_text, paths) -%}
    struct_pack(
        json_types := json_type({{ json_text }}, [{{ paths | join(', ') }}]),
        texts := json_extract_string({{ json_text }}, [{{ paths | join(', ') }}])
    )
{%- endmacro %}

{% macro json_field_kind(parsed_column, json_text, position, path) -%}
    {{ return(adapter.dispatch('json_field_kind', 'agent_segments')(parsed_column, json_text, position, path)) }}
{%- endmacro %}

{% macro default__json_field_kind(parsed_column, json_text, position, path) -%}
    {{ agent_segments.json_kind(json_text, path) }}
{%- endmacro %}

{#
    DuckDB types an integer literal beyond 64 bits as DOUBLE; its text is
    still the literal's digits, and JSON has no integer size limit.
#}
{% macro duckdb__json_field_kind(parsed_column, json_text, position, path) -%}
    case
        when
            {{ parsed_column }}.json_types[{{ position }}] = 'DOUBLE'
            and regexp_full_match({{ parsed_column }}.texts[{{ position }}], '-?[0-9]+')
            then 'integer'
        else {{ agent_segments.duckdb_json_kind_of_type(parsed_column ~ '.json_types[' ~ position ~ ']', is_column=true) }}
    end
{%- endmacro %}

{% macro json_field_text(parsed_column, json_text, position, path) -%}
    {{ return(adapter.dispatch('json_field_text', 'agent_segments')(parsed_column, json_text, position, path)) }}
{%- endmacro %}

{% macro default__json_field_text(parsed_column, json_text, position, path) -%}
    {{ agent_segments.json_text(json_text, path) }}
{%- endmacro %}

{% macro duckdb__json_field_text(parsed_column, json_text, position, path) -%}
    {{ parsed_column }}.texts[{{ position }}]
{%- endmacro %}

{#
    The minified form of an object or array field read by json_field_text.
    DuckDB's json_extract_string writes such a value with the same compact
    writer json() uses, so minifying it again would only parse it twice
    (inputs are most of a record's bytes).
#}
{% macro json_field_minified(field_text) -%}
    {{ return(adapter.dispatch('json_field_minified', 'agent_segments')(field_text)) }}
{%- endmacro %}

{% macro default__json_field_minified(field_text) -%}
    {{ agent_segments.json_minified(field_text) }}
{%- endmacro %}

{% macro duckdb__json_field_minified(field_text) -%}
    {{ field_text }}
{%- endmacro %}
