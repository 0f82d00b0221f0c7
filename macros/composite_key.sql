{#
    One orderable value made of several (compared in order, as ORDER BY
    would): for max_by / min_by, which pick a row by a single value.
    `expressions` is a list of SQL expressions.
#}
{% macro composite_key(expressions) -%}
    {{ return(adapter.dispatch('composite_key', 'agent_segments')(expressions)) }}
{%- endmacro %}

{% macro default__composite_key(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}

{% macro duckdb__composite_key(expressions) -%}
    row({{ expressions | join(', ') }})
{%- endmacro %}
