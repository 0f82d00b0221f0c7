{#
    One row per (counted task, dimension): the segment the task belongs to in
    that dimension, with its outcome and start. The long shape the time
    series and the intervention comparisons read. One
    pass over the tasks, crossed with the short list of dimensions
    (macros/dimensions_unpivoted.sql).
#}

with

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

configured_dimensions as (

    {{ agent_segments.configured_dimension_rows() }}

),

memberships as (

    select
        task_segment_values.task_id,
        configured_dimensions.dimension,
        {{ agent_segments.dimension_value('configured_dimensions.dimension', 'task_segment_values') }}
            as segment_value,
        task_segment_values.is_success,
        task_segment_values.is_in_evaluation_window,
        task_segment_values.started_at

    from task_segment_values

    cross join configured_dimensions

    where task_segment_values.is_counted

)

select * from memberships
