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
