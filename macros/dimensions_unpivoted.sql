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
