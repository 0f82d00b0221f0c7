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
