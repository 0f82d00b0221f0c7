{#
    The rows of the Parquet files behind `source_relation` (the source
    agent_logs.task_runs_parquet), as a subquery with source_file,
    record_number (the 1-based row number in its file) and raw_record: the
    row as the JSON object a JSONL line would hold, so both deliveries pass
    one set of rules. Only the files named in `source_files` are read.
#}
{% macro raw_parquet_records(source_relation, source_files) -%}
    {{ return(adapter.dispatch('raw_parquet_records', 'agent_segments')(source_relation, source_files)) }}
{%- endmacro %}

{#
    DuckDB: each file is read on its own, with its own column types. One
    read_parquet over all files would unify the types (union_by_name): a
    column that is text in one file would turn another file's integers into
    strings, and change what its records mean.
#}
{% macro duckdb__raw_parquet_records(source_relation, source_files) -%}
    (
        {%- for source_file in source_files %}
        {%- if not loop.first %}

        union all
        {%- endif %}

        select
            filename as source_file,
            file_row_number + 1 as record_number,
            cast(
                to_json(struct_pack(*columns(* exclude (filename, file_row_number))))
                as {{ dbt.type_string() }}
            ) as raw_record

        from read_parquet({{ agent_segments.duckdb_file_literal(source_file) }}, filename = true, file_row_number = true)
        {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as source_file,
            cast(null as {{ dbt.type_bigint() }}) as record_number,
            cast(null as {{ dbt.type_string() }}) as raw_record
        where false
        {%- endfor %}
    ) as parquet_rows
{%- endmacro %}

{# Spark: null fields stay in the JSON, as DuckDB writes them. #}
{% macro spark__raw_parquet_records(source_relation, source_files) -%}
    (
        select
            concat({{ agent_segments.spark_raw_path_prefix() }}, _metadata.file_name) as source_file,
            _metadata.row_index + 1 as record_number,
            to_json(struct(*), map('ignoreNullFields', 'false')) as raw_record

        from {{ source_relation }}
        where {{ agent_segments.value_in_list(
            'concat(' ~ agent_segments.spark_raw_path_prefix() ~ ', _metadata.file_name)', source_files
        ) }}
    ) as parquet_rows
{%- endmacro %}
