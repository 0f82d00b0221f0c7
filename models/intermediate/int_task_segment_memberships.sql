{#
    One row per (counted task, dimension): the segment the task belongs to in
    that dimension, with its outcome and start. The long shape the time
    series and the intervention comparisons read. One
    pass over the tasks, crossed with the short list of dimensions.
#}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

configured_dimensions as (

    {%- for dimension in dimensions %}
    select '{{ dimension.name }}' as dimension
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

memberships as (

    select
        task_segment_values.task_id,
        configured_dimensions.dimension,
        case configured_dimensions.dimension
            {%- for dimension in dimensions %}
            when '{{ dimension.name }}' then task_segment_values.{{ dimension.column }}
            {%- endfor %}
        end as segment_value,
        task_segment_values.is_success,
        task_segment_values.is_in_evaluation_window,
        task_segment_values.started_at

    from task_segment_values

    cross join configured_dimensions

    where task_segment_values.is_counted

)

select * from memberships
