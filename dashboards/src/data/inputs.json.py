"""Inputs: missing required fields by customer, next to completion rate.

Computed here from marts.fct_task_runs (customer_id, missing_required_fields,
missing_required_fields_bucket), counted tasks only. Customers appear as the
customer segments do: their names when the build opted in
(show_customer_names; customer_name is then filled), else pseudonyms.
"""

from _warehouse import connect, emit, records

TASKS = """
    select
        coalesce(customer_name, customer_id, '(missing)') as customer_id,
        missing_required_fields,
        missing_required_field_count,
        missing_required_fields_bucket,
        is_success
    from marts.fct_task_runs
    where is_counted
"""

with connect() as connection:
    customers = records(
        connection,
        f"""
        with tasks as ({TASKS})
        select
            customer_id,
            count(*) as task_count,
            avg(is_success::int) as completion_rate,
            count(*) filter (where missing_required_field_count > 0) as tasks_missing_fields,
            avg((missing_required_field_count > 0)::int) as share_missing_fields,
            avg((missing_required_fields_bucket = '3+')::int) as share_missing_3_plus,
            avg(missing_required_field_count) as mean_missing_fields,
            avg(is_success::int) filter (where missing_required_field_count = 0)
                as completion_rate_complete_input,
            avg(is_success::int) filter (where missing_required_field_count > 0)
                as completion_rate_missing_fields
        from tasks
        group by customer_id
        order by share_missing_fields desc, customer_id
        """,
    )
    buckets = records(
        connection,
        f"""
        with tasks as ({TASKS})
        select
            customer_id,
            missing_required_fields_bucket as bucket,
            count(*) as task_count,
            avg(is_success::int) as completion_rate
        from tasks
        group by all
        order by customer_id, bucket
        """,
    )
    fields = records(
        connection,
        f"""
        with tasks as ({TASKS}),
        missing as (
            select customer_id, trim(unnest(string_split(missing_required_fields, ','))) as field
            from tasks
            where missing_required_fields is not null
        )
        select customer_id, field, count(*) as task_count
        from missing
        group by all
        order by customer_id, field
        """,
    )

emit({"customers": customers, "buckets": buckets, "fields": fields})
