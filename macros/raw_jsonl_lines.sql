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
    numbers the lines; a file's lines are consecutive. read_csv stops the
    whole build on a byte that is not UTF-8, a NUL or a CR that is not part
    of a line end, so files holding one (duckdb_files_not_plain_text) are
    read as bytes instead: split at LF, each line decoded on its own, a line
    that is not UTF-8 kept in DuckDB's escaped form (\xNN), which no JSON
    parser accepts, so it is rejected as malformed_json. That path is many
    times slower, hence only for such files.
#}
{% macro duckdb__raw_jsonl_lines(source_relation, source_files) -%}
    {%- set byte_files = agent_segments.duckdb_files_not_plain_text(source_files) -%}
    {%- set text_files = source_files | reject('in', byte_files) | list -%}
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
            where {{ agent_segments.value_in_list('filename', text_files) }}
        ) as scanned_lines

        {%- for byte_file in byte_files %}

        union all

        select
            filename as source_file,
            -- As read_csv does, a byte order mark opening the file is dropped.
            case when record_number = 1 then ltrim(line, chr(65279)) else line end as raw_record,
            record_number

        from (
            select
                filename,
                coalesce(try(decode(cast(escaped_line as blob))), escaped_line) as line,
                record_number

            from (
                select
                    filename,
                    unnest(escaped_lines) as escaped_line,
                    unnest(generate_series(1, len(escaped_lines))) as record_number

                from (
                    -- A BLOB cast to text escapes every byte outside printable
                    -- ASCII (the backslash too), so splitting at \x0A is exact.
                    select
                        filename,
                        string_split(cast(content as {{ dbt.type_string() }}), '\x0A') as escaped_lines

                    from read_blob({{ agent_segments.duckdb_file_literal(byte_file) }})
                ) as file_bytes
            ) as escaped_byte_lines
        ) as byte_lines
        {%- endfor %}
    ) as numbered_lines
{%- endmacro %}

{#
    DuckDB: which of `source_files` hold a byte sequence that is not UTF-8,
    a NUL or a CR. One query per file, run while the model compiles: a
    file's bytes are one value, and a file at a time bounds the memory. This
    reads each new file a second time (about 0.3 s per 300 MB, a twentieth of
    staging's time); the alternative, every file on the byte path, is many
    times slower.
#}
{% macro duckdb_files_not_plain_text(source_files) -%}
    {%- set byte_files = [] -%}
    {%- if execute -%}
        {%- for source_file in source_files -%}
            {%- set check = run_query(
                "select coalesce(contains(text, chr(0)) or contains(text, chr(13)), true)"
                ~ " from (select try(decode(content)) as text from read_blob("
                ~ agent_segments.duckdb_file_literal(source_file) ~ "))"
            ) -%}
            {%- if check.columns[0].values()[0] -%}
                {%- do byte_files.append(source_file) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(byte_files) }}
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
