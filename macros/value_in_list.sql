{#
    `expression` in (the string literals of `values`), or false when the
    list is empty (SQL has no empty IN list).
#}
{% macro value_in_list(expression, values) -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ expression }} in (
            {%- for value in values -%}
                '{{ dbt.escape_single_quotes(value) }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#
    DuckDB: a file path as a quoted literal for read_parquet / read_blob,
    which take globs: '[', '*' and '?' in a name are matched literally
    ('[[]', '[*]', '[?]'), so a file named task_runs_[a].parquet is read
    and task_runs_a.parquet is not.
#}
{% macro duckdb_file_literal(path) -%}
    '{{ dbt.escape_single_quotes(path | replace('[', '[[]') | replace('*', '[*]') | replace('?', '[?]')) }}'
{%- endmacro %}
