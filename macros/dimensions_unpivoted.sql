{#
    The long shape of the segment dimensions, in one pass over a relation
    with a dim_* column per dimension (int_tasks_segment_values): cross it
    with configured_dimension_rows() and take the row's value with
    dimension_value(). A union of one select per dimension would read the
    relation once per dimension.
#}
{% macro configured_dimension_rows() -%}
    {%- for dimension in agent_segments.segment_dimensions() %}
    select '{{ dimension.name }}' as dimension
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The value in the dimension named by `dimension_expression` of the row `relation_alias`. -#}
{% macro dimension_value(dimension_expression, relation_alias) -%}
    case {{ dimension_expression }}
        {%- for dimension in agent_segments.segment_dimensions() %}
        when '{{ dimension.name }}' then {{ relation_alias }}.{{ dimension.column }}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    Of a row with a dim_* column per dimension, null where the row does not
    constrain it (a slice's "any", a grouping set's other columns): the first
    dimension it does constrain, as `dimension`, and its value there, as
    `value_alias`. Dimension values themselves are never null ('(missing)').
-#}
{% macro first_constrained_dimension(dimensions, value_alias) -%}
    case
        {%- for dimension in dimensions %}
        when {{ dimension.column }} is not null then '{{ dimension.name }}'
        {%- endfor %}
    end as dimension,
    coalesce(
        {%- for dimension in dimensions %}
        {{ dimension.column }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as {{ value_alias }}
{%- endmacro %}
