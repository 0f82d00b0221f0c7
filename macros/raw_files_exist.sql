{#
    True when at least one file in `raw_path` matches the glob `pattern`.
    Raw deliveries may lack optional files (customers.csv, Parquet or JSONL
    task runs); models ask first instead of failing on an empty glob.
#}
{% macro raw_files_exist(pattern) -%}
    {{ return(adapter.dispatch('raw_files_exist', 'agent_segments')(pattern)) }}
{%- endmacro %}

{% macro duckdb__raw_files_exist(pattern) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set full_pattern = var('raw_path') ~ '/' ~ pattern -%}
    {%- set matches = run_query("select count(*) from glob('" ~ full_pattern | replace("'", "''") ~ "')") -%}
    {{ return(matches.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#
    Spark: lists the files of raw_path (binaryFile reads names, not
    contents) and matches their names against the glob, as a Java regex.
#}
{% macro spark__raw_files_exist(pattern) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
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
    {%- set matches = run_query(
        "select count(*) from binaryFile.`" ~ raw_path ~ "` where _metadata.file_name rlike '^"
        ~ name_regex | join('') | replace("'", "\\'") ~ "$'"
    ) -%}
    {{ return(matches.columns[0].values()[0] > 0) }}
{%- endmacro %}
