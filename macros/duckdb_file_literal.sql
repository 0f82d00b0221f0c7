{#
    DuckDB: a file path as a quoted literal for read_parquet / read_blob,
    which take globs: '[', '*' and '?' in a name are matched literally
    ('[[]', '[*]', '[?]'), so a file named task_runs_[a].parquet is read
    and task_runs_a.parquet is not.
#}
{% macro duckdb_file_literal(path) -%}
    '{{ dbt.escape_single_quotes(path | replace('[', '[[]') | replace('*', '[*]') | replace('?', '[?]')) }}'
{%- endmacro %}
