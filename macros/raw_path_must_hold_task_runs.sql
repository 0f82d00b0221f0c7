{#
    Fails the build early, with the folder named, when `raw_path` holds no
    task_runs*.jsonl or task_runs*.parquet file: an empty delivery must not
    produce empty marts that look like "no failures".
#}
{% macro raw_path_must_hold_task_runs(has_jsonl, has_parquet) -%}
    {%- if execute and not has_jsonl and not has_parquet -%}
        {{ exceptions.raise_compiler_error(
            "raw_path '" ~ var('raw_path') ~ "' holds no task_runs*.jsonl or task_runs*.parquet file. "
            ~ "Point the dbt var raw_path at a folder of raw task logs (see README, 'Raw input contract')."
        ) }}
    {%- endif -%}
{%- endmacro %}
