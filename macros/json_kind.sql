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
    case json_type({{ json_text }}, {{ path }})
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'integer'
        when 'UBIGINT' then 'integer'
        when 'HUGEINT' then 'integer'
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'NULL' then 'null'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
    end
{%- endmacro %}
