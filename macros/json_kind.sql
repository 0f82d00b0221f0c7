{#
    The JSON kind of the value at `path` in the JSON text `json_text`:
    'string', 'integer', 'number', 'boolean', 'null', 'object', 'array',
    or null when the key is absent. A portable vocabulary, so the type rules
    of the raw contract read the same on every engine.
#}
{% macro json_kind(json_text, path) -%}
    {{ return(adapter.dispatch('json_kind', 'agent_segments')(json_text, path)) }}
{%- endmacro %}

{% macro duckdb__json_kind(json_text, path) -%}
    {{ agent_segments.duckdb_json_kind_of_type('json_type(' ~ json_text ~ ', ' ~ path ~ ')') }}
{%- endmacro %}

{#
    DuckDB: the kind of a json_type() result. For a json_type() call, a map
    lookup: the optimizer copies a CASE's argument into every comparison, so
    json_type would run once per branch. For a plain column
    (`is_column=true`), a CASE: twice as fast as building the map per row.
#}
{% macro duckdb_json_kind_of_type(json_type_expression, is_column=false) -%}
    {%- set kinds = {
        'VARCHAR': 'string',
        'BIGINT': 'integer',
        'UBIGINT': 'integer',
        'HUGEINT': 'integer',
        'DOUBLE': 'number',
        'BOOLEAN': 'boolean',
        'NULL': 'null',
        'OBJECT': 'object',
        'ARRAY': 'array'
    } -%}
    {%- if is_column -%}
    case {{ json_type_expression }}
        {%- for json_type, kind in kinds.items() %}
        when '{{ json_type }}' then '{{ kind }}'
        {%- endfor %}
    end
    {%- else -%}
    map {
        {%- for json_type, kind in kinds.items() %}
        '{{ json_type }}': '{{ kind }}'{{ ',' if not loop.last }}
        {%- endfor %}
    }[{{ json_type_expression }}]
    {%- endif -%}
{%- endmacro %}

{#
    Spark (4.0+ / Databricks): the kind from the VARIANT parse of the text.
    VARIANT keeps 1.0 as DECIMAL(1,0), so a scale-0 decimal ('DECIMAL0'
    below) is 'integer' only when its literal is digits (of any size, as
    JSON has no integer limit; staging rejects integer fields beyond 64 bits).
    The output is one line on purpose: Spark's Derby metastore keeps at most
    32700 characters of a view's SQL.
#}
{% macro spark__json_kind(json_text, path) -%}
    {%- set spark_path = agent_segments.spark_json_path(path) -%}
    {%- set literal = 'get_json_object(' ~ json_text ~ ', ' ~ spark_path ~ ')' -%}
    {%- set variant_type = "regexp_extract(regexp_replace(schema_of_variant(variant_get(try_parse_json("
        ~ json_text ~ "), " ~ spark_path ~ ")), '[(][0-9]+,0[)]', '0'), '^[A-Z0]+', 0)" -%}
    {%- set scale_0_kind = "if(" ~ literal ~ " rlike '^-?[0-9]+$', 'integer', 'number')" -%}
    decode({{ variant_type }}, 'STRING', 'string', 'BOOLEAN', 'boolean', 'VOID', 'null', 'OBJECT', 'object', 'ARRAY', 'array', 'BIGINT', 'integer', 'DOUBLE', 'number', 'DECIMAL', 'number', 'DECIMAL0', {{ scale_0_kind }})
{%- endmacro %}
