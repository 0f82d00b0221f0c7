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

    select * from {{ ref('int_input_shapes_required_fields_checked') }}

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

customer_input_shapes as (

    -- Tasks counted per customer and input shape first: the field checks
    -- are per shape, and a customer's tasks share few shapes.
    select
        task_type,
        input_filled_fields,
        coalesce(customer_id, '(missing)') as customer_id,
        max(customer_tier) as customer_tier,
        max(customer_name) as customer_name,
        count(*) as task_count,
        count(case when is_success then 1 end) as completed_count

    from counted_tasks
    group by task_type, input_filled_fields, coalesce(customer_id, '(missing)')

),

field_gaps as (

    select
        customer_input_shapes.customer_id,
        required_fields_checked.field_name,
        max(customer_input_shapes.customer_tier) as customer_tier,
        max(customer_input_shapes.customer_name) as customer_name,
        -- DuckDB sums integers into 128 bits; counts stay 64-bit for BI tools.
        cast(sum(customer_input_shapes.task_count) as {{ dbt.type_bigint() }}) as tasks_requiring_field,
        cast(coalesce(
            sum(case when required_fields_checked.is_missing then customer_input_shapes.task_count end), 0
        ) as {{ dbt.type_bigint() }}) as tasks_missing_field,
        sum(case when required_fields_checked.is_missing then customer_input_shapes.completed_count end)
        / cast(
            sum(case when required_fields_checked.is_missing then customer_input_shapes.task_count end) as double
        ) as completion_rate_when_missing,
        sum(case when not required_fields_checked.is_missing then customer_input_shapes.completed_count end)
        / cast(
            sum(case when not required_fields_checked.is_missing then customer_input_shapes.task_count end) as double
        ) as completion_rate_when_present

    from customer_input_shapes

    inner join required_fields_checked
        on
            customer_input_shapes.task_type = required_fields_checked.task_type
            and customer_input_shapes.input_filled_fields = required_fields_checked.input_filled_fields

    group by customer_input_shapes.customer_id, required_fields_checked.field_name

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
