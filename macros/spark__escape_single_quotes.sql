{#
    Overrides dbt-spark's escape_single_quotes (dispatch search order in
    dbt_project.yml), which unit-test fixtures use for text values. Spark
    string literals treat a backslash as an escape, so it is doubled too:
    '\t' in a fixture stays backslash-t, as on DuckDB, not a tab.
#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace('\\', '\\\\') | replace("'", "\\'") }}
{%- endmacro %}
