{#
    ln(x!) for a non-negative integer expression: the building block of the
    exact hypergeometric (Fisher) tail in SQL.
#}
{% macro log_factorial(x) -%}
    {{ return(adapter.dispatch('log_factorial', 'agent_segments')(x)) }}
{%- endmacro %}

{% macro duckdb__log_factorial(x) -%}
    lgamma(cast({{ x }} as double) + 1)
{%- endmacro %}
