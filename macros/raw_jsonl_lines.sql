{#
    The lines of the JSONL files behind `source_relation` (the source
    agent_logs.task_runs_jsonl), as a subquery with source_file (raw_path and
    the file's name), record_number (the 1-based line number in its file,
    blank lines counted) and raw_record (the line's text). Only the files
    named in `source_files` (source_file values) are read.
#}
{% macro raw_jsonl_lines(source_relation, source_files) -%}
    {{ return(adapter.dispatch('raw_jsonl_lines', 'agent_segments')(source_relation, source_files)) }}
{%- endmacro %}

{#
    DuckDB: read_csv keeps the scan in file order, so row_number() over ()
    numbers the lines; a file's lines are consecutive.
#}
{% macro duckdb__raw_jsonl_lines(source_relation, source_files) -%}
    (
        select
            source_file,
            raw_record,
            scan_position - min(scan_position) over (partition by source_file) + 1 as record_number

        from (
            select
                filename as source_file,
                raw_record,
                row_number() over () as scan_position

            from {{ source_relation }}
            -- A filter on the file name skips the other files unread.
            where {{ agent_segments.value_in_list('filename', source_files) }}
        ) as scanned_lines
    ) as numbered_lines
{%- endmacro %}

{#
    Spark: a large file is read in blocks; within a block the lines keep
    their order, so (block start, position in the scan) orders a file.
#}
{% macro spark__raw_jsonl_lines(source_relation, source_files) -%}
    (
        select
            source_file,
            raw_record,
            row_number() over (
                partition by source_file
                order by file_block_start, scan_position
            ) as record_number

        from (
            select
                concat({{ agent_segments.spark_raw_path_prefix() }}, _metadata.file_name) as source_file,
                raw_record,
                _metadata.file_block_start as file_block_start,
                monotonically_increasing_id() as scan_position

            from {{ source_relation }}
            where {{ agent_segments.value_in_list(
                'concat(' ~ agent_segments.spark_raw_path_prefix() ~ ', _metadata.file_name)', source_files
            ) }}
        ) as scanned_lines
    ) as numbered_lines
{%- endmacro %}
