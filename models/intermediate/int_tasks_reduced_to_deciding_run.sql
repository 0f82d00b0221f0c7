{#
    One row per task: the run that decides its outcome (highest attempt, a
    missing attempt counting as 1, then the latest start, then the highest
    task_run_id) and how many runs the task took.
#}

{#
    A table: the views above it (input scoring, required fields) would
    otherwise run again for every model downstream that reads tasks.
#}
{{ config(materialized='table') }}

with

task_runs as (

    select * from {{ ref('int_task_runs_input_scored') }}

),

task_runs_ranked as (

    select
        *,
        row_number() over (
            partition by task_id
            order by coalesce(attempt, 1) desc, started_at desc, task_run_id desc
        ) as run_rank_in_task,
        count(*) over (partition by task_id) as attempt_count

    from task_runs

),

deciding_runs as (

    select * from task_runs_ranked
    where run_rank_in_task = 1

)

select * from deciding_runs
