{#
    One row per counted task: its place in time (task_sequence: by start,
    then task_id), its outcome, whether it is in the evaluation window, and
    its segment in every configured dimension as the segment's number
    (segment_number_1 for the first dimension of segment_dimensions, and so
    on; int_segments_numbered). The early warning walks each segment's tasks
    in this order on integers only.

    task_sequence is the task's day (days since 1970-01-01) times 10^10 plus
    its rank within the day: the same order as one global rank, but a task's
    value changes only when its own day gains or loses a task.
#}

{#
    A table: the early warning reads it once per dimension, and the sort
    that numbers the tasks should run once. On DuckDB an incremental build
    writes only the rows that changed (macros/synced_rows.sql): new days,
    days with late tasks, tasks of a new segment. Writing 10M rows was most
    of this model's cost (at 10M tasks: 3.8 s to compute, ~20 s to write).
#}
{{ agent_segments.synced_table_config(['task_id'], present_column='task_sequence') }}
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
        {{ dbt.datediff("cast('1970-01-01' as date)", 'cast(task_segment_values.started_at as date)', 'day') }}
        * 10000000000
        + row_number() over (
            partition by cast(task_segment_values.started_at as date)
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

{{ agent_segments.synced_rows('tasks_ordered', ['task_id'], bucket='cast(started_at as date)') }}
