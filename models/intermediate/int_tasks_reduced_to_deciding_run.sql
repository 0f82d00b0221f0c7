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

run_ranks as (

    -- Ranked on the few columns the ranking needs, then joined back: a
    -- window sorts every column it carries, and task runs are wide.
    select
        task_run_id,
        row_number() over (
            partition by task_id
            order by coalesce(attempt, 1) desc, started_at desc, task_run_id desc
        ) as run_rank_in_task,
        count(*) over (partition by task_id) as attempt_count

    from task_runs

),

deciding_runs as (

    -- Accepted runs are one per task_run_id (int_task_runs_validated).
    select
        task_runs.*,
        run_ranks.run_rank_in_task,
        run_ranks.attempt_count

    from task_runs

    inner join run_ranks
        on task_runs.task_run_id = run_ranks.task_run_id

    where run_ranks.run_rank_in_task = 1

)

select * from deciding_runs
