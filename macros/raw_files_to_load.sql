{#
    Which of `files` (raw_file_versions) the incremental staging model reads
    in this build: all of them on a full build; on an incremental build,
    those not yet loaded at their current version (new files, and files
    rewritten since they were loaded, which replace their earlier rows).
    A loaded file that is gone from raw_path stops the build: its records
    would stay in the marts, so a full refresh would disagree with the
    incremental result.
#}
{% macro raw_files_to_load(files) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(files) }}
    {%- endif -%}
    {%- set loaded = run_query(
        'select distinct source_file, source_file_version from ' ~ this
    ) -%}
    {%- set loaded_versions = {} -%}
    {%- for row in loaded.rows -%}
        {%- do loaded_versions.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set present = files | map(attribute='source_file') | list -%}
    {%- set vanished = loaded_versions.keys() | reject('in', present) | list | sort -%}
    {%- if vanished -%}
        {{ exceptions.raise_compiler_error(
            vanished | length ~ " raw file(s) loaded by an earlier build are no longer in raw_path '"
            ~ var('raw_path') ~ "', e.g. " ~ vanished[0] ~ ". Raw deliveries are append-only; after "
            ~ "removing files or changing raw_path, rebuild from scratch: dbt build --full-refresh"
        ) }}
    {%- endif -%}
    {%- set to_load = [] -%}
    {%- for file in files if loaded_versions.get(file.source_file) != file.file_version -%}
        {%- do to_load.append(file) -%}
    {%- endfor -%}
    {{ return(to_load) }}
{%- endmacro %}
