{#
    Labels a non-negative number by ascending integer `edges`:
    [400, 800] gives 'under 400', '400-799', '800+'. Used for input length;
    the edges are a var, so the buckets change without a SQL edit.
#}
{% macro bucket_label(number_expression, edges) -%}
    {%- for edge in edges -%}
        {%- if edge is not number or edge <= 0 or (not loop.first and edge <= edges[loop.index0 - 1]) -%}
            {{ exceptions.raise_compiler_error(
                "Bucket edges must be ascending positive numbers, got " ~ edges
            ) }}
        {%- endif -%}
    {%- endfor -%}
    case
        when {{ number_expression }} is null then '(missing)'
        {%- for edge in edges %}
        when {{ number_expression }} < {{ edge }}
            then '{{ "under " ~ edge if loop.first else edges[loop.index0 - 1] ~ "-" ~ (edge - 1) }}'
        {%- endfor %}
        else '{{ edges[-1] }}+'
    end
{%- endmacro %}
