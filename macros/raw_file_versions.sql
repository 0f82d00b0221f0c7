{#
    The files in `raw_path` whose names match the glob `pattern`, as a list
    of {source_file, file_version, file_bytes}: source_file names the file
    as the staging model does (raw_path, a slash, the file name), file_version
    is its size and modification time, which change when the file is
    rewritten, and file_bytes its size. Read from the file system's listing, not the files' content.
    At parse time (execute false) the list is empty.
#}
{% macro raw_file_versions(pattern) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.dispatch('raw_file_versions', 'agent_segments')(pattern)) }}
{%- endmacro %}

{#- The result of a listing query as the list above. -#}
{% macro raw_file_version_rows(listing_sql) -%}
    {%- set listing = run_query(listing_sql) -%}
    {%- set versions = [] -%}
    {%- for row in listing.rows -%}
        {%- do versions.append({'source_file': row[0], 'file_version': row[1], 'file_bytes': row[2] | int}) -%}
    {%- endfor -%}
    {{ return(versions) }}
{%- endmacro %}

{#- DuckDB: read_blob reads only the listing when its content is not selected. -#}
{% macro duckdb__raw_file_versions(pattern) -%}
    {#- The folder is literal, the pattern a glob. -#}
    {%- set folder = agent_segments.duckdb_file_literal(var('raw_path') ~ '/') -%}
    {{ return(agent_segments.raw_file_version_rows(
        "select filename, cast(size as varchar) || ' bytes at ' || cast(epoch_us(last_modified) as varchar), size"
        ~ " from read_blob(" ~ folder ~ " || '" ~ pattern | replace("'", "''") ~ "') order by filename"
    )) }}
{%- endmacro %}

{#
    Spark: binaryFile lists the files of raw_path (names, not contents);
    their names are matched against the glob, as a Java regex.
#}
{% macro spark__raw_file_versions(pattern) -%}
    {%- set name_regex = [] -%}
    {%- for part in modules.re.split('([*?])', pattern) -%}
        {%- if part == '*' -%}
            {%- do name_regex.append('.*') -%}
        {%- elif part == '?' -%}
            {%- do name_regex.append('.') -%}
        {%- elif part -%}
            {%- do name_regex.append('\\\\Q' ~ part ~ '\\\\E') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set raw_path = var('raw_path') | replace('`', '``') -%}
    {{ return(agent_segments.raw_file_version_rows(
        "select concat(" ~ agent_segments.spark_raw_path_prefix() ~ ", _metadata.file_name),"
        ~ " concat(cast(_metadata.file_size as string), ' bytes at ',"
        ~ " cast(unix_micros(_metadata.file_modification_time) as string)), _metadata.file_size"
        ~ " from binaryFile.`" ~ raw_path ~ "` where _metadata.file_name rlike '^"
        ~ name_regex | join('') | replace("'", "\\'") ~ "$' order by 1"
    )) }}
{%- endmacro %}
