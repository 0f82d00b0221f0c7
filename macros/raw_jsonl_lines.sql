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
    DuckDB: each file is read whole and split at LF, its lines numbered from
    their position in the file, so no step depends on the order rows are
    scanned in (the staging model lets DuckDB drop that order: see
    duckdb_insertion_order_not_kept) and no window has to hold every line of
    a file to number it (at 10M rows, 14 GB of lines spilled to disk that
    way). A file is one value, at most 4 GB in DuckDB; the plain-text check
    below reads each file whole already. Files that hold a byte sequence that
    is not UTF-8, a NUL or a CR (duckdb_files_not_plain_text) are read as
    bytes instead: each line decoded on its own, a line that is not UTF-8
    kept in DuckDB's escaped form (\xNN), which no JSON parser accepts, so it
    is rejected as malformed_json. That path is several times slower, hence
    only for such files. As read_csv does, a byte order mark opening a file is
    dropped.
#}
{% macro duckdb__raw_jsonl_lines(source_relation, source_files) -%}
    {%- set byte_files = agent_segments.duckdb_files_not_plain_text(source_files) -%}
    (
        select
            source_file,
            case when record_number = 1 then ltrim(raw_record, chr(65279)) else raw_record end as raw_record,
            record_number

        from (
            select
                filename as source_file,
                {%- if byte_files %}
                case
                    when is_bytes then coalesce(try(decode(cast(file_line as blob))), file_line)
                    else file_line
                end as raw_record,
                {%- else %}
                file_line as raw_record,
                {%- endif %}
                record_number

            from (
                select
                    filename,
                    is_bytes,
                    unnest(file_lines) as file_line,
                    unnest(generate_series(1, len(file_lines))) as record_number

                from (
                    select
                        cast(null as {{ dbt.type_string() }}) as filename,
                        false as is_bytes,
                        cast([] as {{ dbt.type_string() }}[]) as file_lines
                    where false

                    {%- for source_file in source_files %}

                    union all

                    {% if source_file in byte_files -%}
                    -- A BLOB cast to text escapes every byte outside printable
                    -- ASCII (the backslash too), so splitting at \x0A is exact.
                    select
                        filename,
                        true as is_bytes,
                        string_split(cast(content as {{ dbt.type_string() }}), '\x0A') as file_lines

                    from read_blob({{ agent_segments.duckdb_file_literal(source_file) }})
                    {%- else -%}
                    select
                        filename,
                        false as is_bytes,
                        string_split(content, chr(10)) as file_lines

                    from read_text({{ agent_segments.duckdb_file_literal(source_file) }})
                    {%- endif %}
                    {%- endfor %}
                ) as files
            ) as split_lines
        ) as decoded_lines
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
