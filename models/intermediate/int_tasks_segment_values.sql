{#
    One row per task with its value in every configured segment dimension
    (var segment_dimensions) as text, '(missing)' when the task has none, its
    outcome, and whether it falls in the evaluation window (the last
    evaluation_window_days days of the data; all tasks when the var is null),
    which is what the segment and slice statuses judge.
#}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

tasks as (

    select * from {{ ref('fct_task_runs') }}

),

evaluation_window as (

    {{ agent_segments.evaluation_window_start('tasks') }}

),

task_segment_values as (

    select
        tasks.task_id,
        {%- for dimension in dimensions %}
        coalesce(cast({{ dimension.expression }} as {{ dbt.type_string() }}), '(missing)')
            as {{ dimension.column }},
        {%- endfor %}
        tasks.outcome,
        tasks.is_counted,
        tasks.is_success,
        {{ agent_segments.is_in_evaluation_window('tasks.started_at', 'evaluation_window.window_start_at') }}
            as is_in_evaluation_window,
        tasks.started_at

    from tasks

    cross join evaluation_window

)

select * from task_segment_values
