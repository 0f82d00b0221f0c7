{#
    Which of `files` (raw_file_versions) the incremental staging model reads
    in this build: all non-empty ones on a full build; on an incremental build,
    those not yet loaded at their current version (new files, and files
    rewritten since they were loaded, which replace their earlier rows).
    A loaded file that is gone from raw_path, or now empty (0 bytes), stops
    the build: its records would stay in the marts (the replace by file has
    no new row to replace them with), so a full refresh would disagree with
    the incremental result. An empty file never loaded is skipped with a
    warning: it brings no record, but a delivery that arrives empty is worth
    a look.
#}
{% macro raw_files_to_load(files) -%}
    {%- if not execute -%}
        {{ return(files) }}
    {%- endif -%}
    {#- Empty files are never read: they hold no record (and an empty Parquet file no footer). -#}
    {%- set empty = files | selectattr('file_bytes', 'equalto', 0) | map(attribute='source_file') | list -%}
    {%- set readable = files | rejectattr('file_bytes', 'equalto', 0) | list -%}
    {%- set loaded_versions = {} -%}
    {%- if is_incremental() -%}
        {%- set loaded = run_query(
            'select distinct source_file, source_file_version from ' ~ this
        ) -%}
        {%- for row in loaded.rows -%}
            {%- do loaded_versions.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set present = readable | map(attribute='source_file') | list -%}
    {%- set vanished = loaded_versions.keys() | reject('in', present) | list | sort -%}
    {%- set emptied = vanished | select('in', empty) | list -%}
    {%- if emptied -%}
        {{ exceptions.raise_compiler_error(
            emptied | length ~ " raw file(s) loaded by an earlier build are now empty (0 bytes), e.g. "
            ~ emptied[0] ~ ". Raw deliveries are append-only; after emptying files, rebuild from "
            ~ "scratch: dbt build --full-refresh"
        ) }}
    {%- elif vanished -%}
        {{ exceptions.raise_compiler_error(
            vanished | length ~ " raw file(s) loaded by an earlier build are no longer in raw_path '"
            ~ var('raw_path') ~ "', e.g. " ~ vanished[0] ~ ". Raw deliveries are append-only; after "
            ~ "removing files or changing raw_path, rebuild from scratch: dbt build --full-refresh"
        ) }}
    {%- endif -%}
    {%- if empty -%}
        {{ exceptions.warn(
            empty | length ~ " raw file(s) in raw_path are empty (0 bytes) and bring no record: "
            ~ empty | join(', ')
        ) }}
    {%- endif -%}
    {%- set to_load = [] -%}
    {%- for file in readable if loaded_versions.get(file.source_file) != file.file_version -%}
        {%- do to_load.append(file) -%}
    {%- endfor -%}
    {{ return(to_load) }}
{%- endmacro %}
