{#
    The lines of the JSONL files behind `source_relation` (the source
    agent_logs.task_runs_jsonl), as a subquery with source_file (raw_path and
    the file's name), record_number (the 1-based line number in its file,
    blank lines counted) and raw_record (the line's text). Only `files` are
    read: entries of raw_file_versions ({source_file, file_version,
    file_bytes}).
#}
{% macro raw_jsonl_lines(source_relation, files) -%}
    {{ return(adapter.dispatch('raw_jsonl_lines', 'agent_segments')(source_relation, files)) }}
{%- endmacro %}

{#
    DuckDB: each file is read whole and split at LF, its lines numbered from
    their position in the file, so no step depends on the order rows are
    scanned in (the staging model lets DuckDB drop that order: see
    insertion_order_not_kept) and no window has to hold every line of a file
    to number it (at 10M rows, 14 GB of lines spilled to disk that way).
    read_blob takes its files one at a time, so the files are dealt into one
    read_blob per DuckDB thread, balanced by size: every thread has work and
    at most one file per thread is in memory (a file is one value, 4 GB at
    most in DuckDB). One read per file would let DuckDB open them all at
    once (out of memory at 10M rows).
    A file that is UTF-8 without a NUL or a CR is split as text. Any other is
    split as bytes (a BLOB cast to text escapes every byte outside printable
    ASCII, the backslash too, so splitting at \x0A is exact) and each line
    decoded on its own: a line that is not UTF-8 stays in DuckDB's escaped
    form (\xNN), which no JSON parser accepts, so it is rejected as
    malformed_json, and a CR stays in its line. As read_csv does, a byte
    order mark opening a file is dropped.
    A file much larger than one thread's share of the bytes (one delivery
    read by an incremental build) leaves the other threads idle: then the
    lines are first materialized, which DuckDB scans on every thread, so the
    parsing that follows is shared (216k lines of one file: 4.8 s -> 2.9 s
    on 2 threads), when they take at most a quarter of DuckDB's memory
    limit. Not otherwise: holding every line of a full build at once (14 GB
    at 10M rows) gains nothing when each thread has its files.
#}
{% macro duckdb__raw_jsonl_lines(source_relation, files) -%}
    {%- set thread_count = agent_segments.duckdb_thread_count() -%}
    {%- set file_groups = agent_segments.files_balanced_by_size(files, thread_count) -%}
    {%- set file_bytes = files | map(attribute='file_bytes') | list -%}
    {%- set lines_shared = file_bytes | length > 0 and thread_count > 1
        and file_bytes | max > 1.25 * (file_bytes | sum) / thread_count
        and file_bytes | sum <= agent_segments.duckdb_memory_limit_bytes() / 4 -%}
    (
        {%- if lines_shared %}
        with numbered_file_lines as materialized (
        {%- endif %}
        select
            source_file,
            case when record_number = 1 then ltrim(raw_record, chr(65279)) else raw_record end as raw_record,
            record_number

        from (
            select
                filename as source_file,
                case
                    when is_bytes then coalesce(try(decode(cast(file_line as blob))), file_line)
                    else file_line
                end as raw_record,
                record_number

            from (
                select
                    filename,
                    is_bytes,
                    unnest(file_lines) as file_line,
                    unnest(generate_series(1, len(file_lines))) as record_number

                from (
                    select
                        filename,
                        is_bytes,
                        case
                            when is_bytes then string_split(cast(content as {{ dbt.type_string() }}), '\x0A')
                            else string_split(content_text, chr(10))
                        end as file_lines

                    from (
                        select
                            filename,
                            content,
                            content_text,
                            coalesce(contains(content_text, chr(0)) or contains(content_text, chr(13)), true)
                                as is_bytes

                        from (
                            select
                                cast(null as {{ dbt.type_string() }}) as filename,
                                cast(null as blob) as content,
                                cast(null as {{ dbt.type_string() }}) as content_text
                            where false

                            {%- for group in file_groups %}

                            union all

                            select
                                filename,
                                content,
                                -- Null when the bytes are not UTF-8.
                                try(decode(content)) as content_text

                            from read_blob([{{ agent_segments.duckdb_file_literals(group) }}])
                            {%- endfor %}
                        ) as file_contents
                    ) as files_checked
                ) as files_split
            ) as split_lines
        ) as decoded_lines
        {%- if lines_shared %}
        )

        select * from numbered_file_lines
        {%- endif %}
    ) as numbered_lines
{%- endmacro %}

{#- DuckDB: file paths as a list of literals for read_text / read_blob. -#}
{% macro duckdb_file_literals(source_files) -%}
    {%- for source_file in source_files -%}
        {{ agent_segments.duckdb_file_literal(source_file) }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- DuckDB: its memory limit in bytes (0 while parsing). -#}
{% macro duckdb_memory_limit_bytes() -%}
    {%- if not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {#- current_setting shows it rounded in binary units: '7.4 GiB', '953.6 MiB'. -#}
    {%- set shown = run_query("select current_setting('memory_limit')").columns[0].values()[0] -%}
    {%- set parts = modules.re.fullmatch('([0-9.]+) ?([KMGT]i?B|bytes)', shown) -%}
    {%- if parts is none -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set exponents = {'bytes': 0, 'KiB': 1, 'MiB': 2, 'GiB': 3, 'TiB': 4, 'KB': 1, 'MB': 2, 'GB': 3, 'TB': 4} -%}
    {%- set base = 1024 if 'i' in parts.group(2) else 1000 -%}
    {{ return(parts.group(1) | float * base ** exponents[parts.group(2)]) }}
{%- endmacro %}

{#- DuckDB: the threads it runs a statement on (1 while parsing). -#}
{% macro duckdb_thread_count() -%}
    {%- if not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {{ return(run_query("select current_setting('threads')").columns[0].values()[0] | int) }}
{%- endmacro %}

{#
    `files` (entries of raw_file_versions) dealt into at most `group_count`
    lists of source_file names with about equal bytes: largest first, each
    to the lightest list so far.
#}
{% macro files_balanced_by_size(files, group_count) -%}
    {%- set groups = [] -%}
    {%- for index in range([group_count, files | length] | min) -%}
        {%- do groups.append({'files': [], 'bytes': 0}) -%}
    {%- endfor -%}
    {%- for file in files | sort(attribute='file_bytes', reverse=true) -%}
        {%- set lightest = groups | sort(attribute='bytes') | first -%}
        {%- do lightest.files.append(file.source_file) -%}
        {%- do lightest.update({'bytes': lightest.bytes + file.file_bytes}) -%}
    {%- endfor -%}
    {{ return(groups | map(attribute='files') | list) }}
{%- endmacro %}

{#
    Spark: a large file is read in blocks; within a block the lines keep
    their order, so (block start, position in the scan) orders a file.
#}
{% macro spark__raw_jsonl_lines(source_relation, files) -%}
    {%- set source_files = files | map(attribute='source_file') | list -%}
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
