{#
    The incremental strategy of the models that replace rows by their
    unique key: delete+insert on DuckDB and Postgres. Spark without Delta has
    no delete, so insert_overwrite: of the partitions the new rows hold when
    the table is partitioned (the staging model, by source_file), else of the
    whole table (segment_alerts, whose every build selects its whole new
    state; see get_insert_overwrite_sql.sql). Either way the rows left are
    the same as delete+insert's.
#}
{% macro replace_by_key_incremental_strategy() -%}
    {{ return(adapter.dispatch('replace_by_key_incremental_strategy', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__replace_by_key_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__replace_by_key_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The partitions that strategy needs for a table replaced file by file: source_file on Spark, none elsewhere. -#}
{% macro by_file_partitions() -%}
    {{ return(adapter.dispatch('by_file_partitions', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__by_file_partitions() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__by_file_partitions() -%}
    {{ return(['source_file']) }}
{%- endmacro %}
