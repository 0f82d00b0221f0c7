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

deciding_run_ids as (

    -- One aggregate over the few columns the choice needs, then a join:
    -- cheaper than ranking every run in a window, which sorts (and at 10M
    -- rows spills) every run. Accepted runs are one per task_run_id
    -- (int_task_runs_validated), so the key is unique within a task.
    select
        max_by(
            task_run_id,
            {{ agent_segments.composite_key(['coalesce(attempt, 1)', 'started_at', 'task_run_id']) }}
        ) as task_run_id,
        count(*) as attempt_count

    from task_runs
    group by task_id

),

deciding_runs as (

    select
        task_runs.*,
        deciding_run_ids.attempt_count

    from task_runs

    inner join deciding_run_ids
        on task_runs.task_run_id = deciding_run_ids.task_run_id

)

select * from deciding_runs
