{#
    True when `text_expression` is strict JSON (RFC 8259). DuckDB's parser
    also takes trailing commas and NaN / Infinity; those records are
    rejected as malformed rather than read with a meaning the producer may
    not have meant. The check looks outside string literals only.
#}
{% macro json_is_valid(text_expression) -%}
    {{ return(adapter.dispatch('json_is_valid', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__json_is_valid(text_expression) -%}
    coalesce(
        json_valid({{ text_expression }})
        and not regexp_matches(
            regexp_replace({{ text_expression }}, '"(\\.|[^"\\])*"', '""', 'g'),
            ',\s*[}\]]|\b(NaN|Infinity)\b'
        ),
        false
    )
{%- endmacro %}

{# Spark (4.0+ / Databricks): strict JSON, as the VARIANT parser reads it. #}
{% macro spark__json_is_valid(text_expression) -%}
    coalesce(try_parse_json({{ text_expression }}) is not null, false)
{%- endmacro %}
