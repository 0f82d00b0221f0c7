{#
    Hooks around a model whose rows carry their own order (record numbers)
    and whose statement is faster without keeping the scan's: DuckDB then
    runs it on every thread, where keeping the order of a scan that emits a
    whole file per row confines it to one. For this model's connection
    only; the post-hook restores the setting. Nothing elsewhere.
#}
{% macro insertion_order_not_kept() -%}
    {{ return(adapter.dispatch('insertion_order_not_kept', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__insertion_order_not_kept() -%}
{%- endmacro %}

{% macro duckdb__insertion_order_not_kept() -%}
    set session preserve_insertion_order = false
{%- endmacro %}

{% macro insertion_order_restored() -%}
    {{ return(adapter.dispatch('insertion_order_restored', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__insertion_order_restored() -%}
{%- endmacro %}

{% macro duckdb__insertion_order_restored() -%}
    reset session preserve_insertion_order
{%- endmacro %}
