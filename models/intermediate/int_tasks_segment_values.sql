{#
    One row per task with its value in every configured segment dimension
    (var segment_dimensions) as text, '(missing)' when the task has none, and
    its outcome. Slice counts and slice examples both read this shape.
#}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

tasks as (

    select * from {{ ref('fct_task_runs') }}

),

task_segment_values as (

    select
        task_id,
        {%- for dimension in dimensions %}
        coalesce(cast({{ dimension.expression }} as {{ dbt.type_string() }}), '(missing)')
            as {{ dimension.column }},
        {%- endfor %}
        outcome,
        is_counted,
        is_success,
        started_at

    from tasks

)

select * from task_segment_values
