{#
    One row per (customer, required input field): how often the customer's
    tasks lack the field, next to the customer's completion rate and the
    completion of its tasks with and without the field. Tells a data owner
    which fields to fix first, and for whom. Counted tasks, deciding runs.
#}

with

tasks as (

    -- The task table already built, not the view behind it (which would
    -- pick every task's deciding run again).
    select * from {{ ref('fct_task_runs') }}

),

required_fields_checked as (

    select * from {{ ref('int_task_runs_required_fields_checked') }}

),

counted_tasks as (

    select * from tasks
    where is_counted

),

customer_rates as (

    select
        coalesce(customer_id, '(missing)') as customer_id,
        count(*) as customer_task_count,
        avg(case when is_success then 1.0 else 0.0 end) as customer_completion_rate

    from counted_tasks
    group by coalesce(customer_id, '(missing)')

),

task_field_checks as (

    select
        counted_tasks.customer_tier,
        counted_tasks.customer_name,
        required_fields_checked.field_name,
        required_fields_checked.is_missing,
        counted_tasks.is_success,
        coalesce(counted_tasks.customer_id, '(missing)') as customer_id

    from counted_tasks

    inner join required_fields_checked
        on counted_tasks.task_run_id = required_fields_checked.task_run_id

),

field_gaps as (

    select
        customer_id,
        field_name,
        max(customer_tier) as customer_tier,
        max(customer_name) as customer_name,
        count(*) as tasks_requiring_field,
        count(case when is_missing then 1 end) as tasks_missing_field,
        avg(case when is_missing then (case when is_success then 1.0 else 0.0 end) end)
            as completion_rate_when_missing,
        avg(case when not is_missing then (case when is_success then 1.0 else 0.0 end) end)
            as completion_rate_when_present

    from task_field_checks
    group by customer_id, field_name

),

final as (

    select
        field_gaps.customer_id,
        field_gaps.customer_tier,
        field_gaps.customer_name,
        field_gaps.field_name,
        field_gaps.tasks_requiring_field,
        field_gaps.tasks_missing_field,
        field_gaps.completion_rate_when_missing,
        field_gaps.completion_rate_when_present,
        customer_rates.customer_task_count,
        customer_rates.customer_completion_rate,
        field_gaps.tasks_missing_field / cast(field_gaps.tasks_requiring_field as double) as missing_share

    from field_gaps

    inner join customer_rates
        on field_gaps.customer_id = customer_rates.customer_id

)

select * from final
