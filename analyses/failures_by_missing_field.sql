-- Which required input field, when missing, goes with the most failures?
-- A starting point for "which fields should the data owners fix first".
-- Compile with `dbt compile --select failures_by_missing_field` and run the
-- SQL in target/compiled against the warehouse.

with

tasks as (

    select * from {{ ref('fct_task_runs') }}
    where is_counted

),

required_input_fields as (

    select * from {{ ref('required_input_fields') }}

),

task_field_pairs as (

    select
        tasks.task_id,
        required_input_fields.field_name,
        tasks.is_success,
        -- missing_required_fields is a ', '-separated list: match whole names.
        position(
            ', ' || required_input_fields.field_name || ', '
            in ', ' || coalesce(tasks.missing_required_fields, '') || ', '
        ) > 0 as is_field_missing

    from tasks

    inner join required_input_fields
        on tasks.task_type = required_input_fields.task_type

),

by_field as (

    select
        field_name,
        count(case when is_field_missing then 1 end) as tasks_missing_field,
        avg(case when is_field_missing then (case when is_success then 1.0 else 0.0 end) end)
            as completion_rate_when_missing,
        avg(case when not is_field_missing then (case when is_success then 1.0 else 0.0 end) end)
            as completion_rate_when_present

    from task_field_pairs
    group by field_name

)

select * from by_field
order by tasks_missing_field desc
