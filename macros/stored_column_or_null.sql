{#
    A column of an incremental model's stored table ({{ this }}), or a typed
    null where a table built by an earlier version of the project lacks it.
    The models compare such a column (a file version, a fingerprint) with the
    current value, and a null differs from every value: after an upgrade the
    first build recomputes what the missing column would have shown to be
    unchanged, and adds the column (on_schema_change sync_all_columns),
    with no --full-refresh.
#}
{% macro stored_column_or_null(column_name, data_type) -%}
    {%- set stored_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do stored_columns.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if column_name | lower in stored_columns -%}
        {{ column_name }}
    {%- else -%}
        cast(null as {{ data_type }}) as {{ column_name }}
    {%- endif -%}
{%- endmacro %}
