{#
    One row per task with its value in every configured segment dimension
    (var segment_dimensions) as text, '(missing)' when the task has none, its
    outcome, and whether it falls in the evaluation window (the last
    evaluation_window_days days of the data; all tasks when the var is null),
    which is what the segment and slice statuses judge.
#}
{%- set dimensions = agent_segments.segment_dimensions() -%}
{%- set window_days = var('evaluation_window_days') -%}
{%- if window_days is not none and (window_days is not number or window_days < 1) -%}
    {{ exceptions.raise_compiler_error(
        "The var evaluation_window_days must be a positive number of days or null (all data), got "
        ~ window_days
    ) }}
{%- endif -%}

with

tasks as (

    select * from {{ ref('fct_task_runs') }}

),

latest_task as (

    select max(started_at) as latest_started_at from tasks

),

evaluation_window as (

    -- Counted back from the latest task, not from the clock: a rebuild of
    -- the same data judges the same tasks. One row.
    {%- set window_start = 'cast(null as timestamp)' if window_days is none
        else dbt.dateadd('day', -1 * window_days, 'latest_started_at') %}
    select {{ window_start }} as window_start_at

    from latest_task

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
        coalesce(tasks.started_at > evaluation_window.window_start_at, true) as is_in_evaluation_window,
        tasks.started_at

    from tasks

    cross join evaluation_window

)

select * from task_segment_values
