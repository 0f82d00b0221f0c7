{#
    True when at least one file in `raw_path` matches the glob `pattern`.
    Raw deliveries may lack optional files (customers.csv, Parquet or JSONL
    task runs); models ask first instead of failing on an empty glob.
#}
{% macro raw_files_exist(pattern) -%}
    {{ return(agent_segments.raw_file_versions(pattern) | length > 0) }}
{%- endmacro %}
