-- Nothing is silently lost: every raw record is an accepted task run or a
-- rejected one, and every accepted task run belongs to exactly one task in
-- fct_task_runs. Returns a row (and fails) when the counts disagree.

with

raw_records as (

    select count(*) as record_count from {{ ref('stg_agent_logs__task_runs') }}

),

accepted_task_runs as (

    select
        count(*) as record_count,
        count(distinct task_id) as task_count

    from {{ ref('int_task_runs_input_scored') }}

),

rejected_task_runs as (

    select count(*) as record_count from {{ ref('rejected_task_runs') }}

),

tasks as (

    select
        count(*) as task_count,
        sum(attempt_count) as task_run_count

    from {{ ref('fct_task_runs') }}

),

reconciliation as (

    select
        raw_records.record_count as raw_record_count,
        accepted_task_runs.record_count as accepted_record_count,
        rejected_task_runs.record_count as rejected_record_count,
        accepted_task_runs.task_count as accepted_task_count,
        tasks.task_count as fact_task_count,
        tasks.task_run_count as fact_task_run_count

    from raw_records

    cross join accepted_task_runs

    cross join rejected_task_runs

    cross join tasks

)

select * from reconciliation
where
    raw_record_count <> accepted_record_count + rejected_record_count
    or accepted_task_count <> fact_task_count
    or accepted_record_count <> coalesce(fact_task_run_count, 0)
