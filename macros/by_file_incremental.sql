{#
    How the incremental staging model replaces the rows of the files it
    reads again (unique_key source_file): delete+insert on DuckDB and
    Postgres; on Spark without Delta, insert_overwrite of the files'
    partitions (dbt-spark overwrites only the partitions the new rows hold).
#}
{% macro by_file_incremental_strategy() -%}
    {{ return(adapter.dispatch('by_file_incremental_strategy', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__by_file_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__by_file_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The table partitions that strategy needs: one per file on Spark, none elsewhere. -#}
{% macro by_file_partitions() -%}
    {{ return(adapter.dispatch('by_file_partitions', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__by_file_partitions() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__by_file_partitions() -%}
    {{ return(['source_file']) }}
{%- endmacro %}
