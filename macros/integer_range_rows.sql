{#
    A select-list expression that turns each row into one row per integer
    from `start` to `stop` inclusive (none when start > stop). Expands the
    terms of the exact Fisher tail.
#}
{% macro integer_range_rows(start, stop) -%}
    {{ return(adapter.dispatch('integer_range_rows', 'agent_segments')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__integer_range_rows(start, stop) -%}
    unnest(generate_series(cast({{ start }} as bigint), cast({{ stop }} as bigint)))
{%- endmacro %}

{# Spark: sequence(5, 3) counts down, so an empty range explodes null (no rows). #}
{% macro spark__integer_range_rows(start, stop) -%}
    explode(
        case
            when {{ start }} <= {{ stop }}
                then sequence(cast({{ start }} as bigint), cast({{ stop }} as bigint))
        end
    )
{%- endmacro %}
