{#
    The incremental strategy of a model whose every build selects the whole
    new state of its table (segment_alerts: the previous rows carried
    forward and updated): delete+insert by the unique key on DuckDB and
    Postgres; on Spark without Delta, insert_overwrite of the whole table
    (see get_insert_overwrite_sql.sql), which leaves the same rows.
#}
{% macro full_state_incremental_strategy() -%}
    {{ return(adapter.dispatch('full_state_incremental_strategy', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__full_state_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__full_state_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}
