{#
    One row per counted task: its place in time (task_sequence: by start,
    then task_id), its outcome, whether it is in the evaluation window, and
    its segment in every configured dimension as the segment's number
    (segment_number_1 for the first dimension of segment_dimensions, and so
    on; int_segments_numbered). The early warning walks each segment's tasks
    in this order on integers only.
#}

{#
    A table: the early warning reads it once per dimension, and the sort
    that numbers the tasks should run once.
#}
{{ config(materialized='table') }}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}
    where is_counted

),

segments as (

    select * from {{ ref('int_segments_numbered') }}

),

tasks_ordered as (

    select
        task_segment_values.task_id,
        task_segment_values.started_at,
        task_segment_values.is_success,
        task_segment_values.is_in_evaluation_window,
        {%- for dimension in dimensions %}
        segments_{{ loop.index }}.segment_number as segment_number_{{ loop.index }},
        {%- endfor %}
        row_number() over (
            order by task_segment_values.started_at, task_segment_values.task_id
        ) as task_sequence

    from task_segment_values
    {% for dimension in dimensions %}
    inner join segments as segments_{{ loop.index }}
        on
            segments_{{ loop.index }}.dimension = '{{ dimension.name }}'
            and task_segment_values.{{ dimension.column }} = segments_{{ loop.index }}.segment_value
    {% endfor %}

)

select * from tasks_ordered
