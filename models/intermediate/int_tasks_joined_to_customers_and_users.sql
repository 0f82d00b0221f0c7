{#
    One row per task, with who triggered it (customer tier from
    customers.csv, team from the run or else from users.csv) and its input
    and request bucketed into segment values. User and customer ids leave
    here as pseudonyms (macros/pseudonymous_id.sql): every mart reads them
    from this model, so none sees a delivered id (docs/privacy.md). With
    show_customer_names, customer_name holds the name from customers.csv.
#}
{%- set show_customer_names = var('show_customer_names') -%}
{%- if show_customer_names is not sameas true and show_customer_names is not sameas false -%}
    {{ exceptions.raise_compiler_error(
        "The var show_customer_names must be true or false, got " ~ show_customer_names
    ) }}
{%- endif %}

with

tasks as (

    select * from {{ ref('int_tasks_reduced_to_deciding_run') }}

),

customers as (

    select * from {{ ref('stg_agent_logs__customers') }}

),

users as (

    select * from {{ ref('stg_agent_logs__users') }}

),

-- One row per key even if a CSV repeats a customer or user, so the joins
-- below can never multiply tasks.
customer_details as (

    select
        customer_id,
        max(customer_name) as customer_name,
        max(customer_tier) as customer_tier

    from customers
    where customer_id is not null
    group by customer_id

),

user_teams as (

    select
        user_id,
        max(team) as team

    from users
    where user_id is not null
    group by user_id

),

tasks_joined as (

    select
        tasks.task_id,
        tasks.task_run_id,
        -- Joined below on the delivered ids, shown as pseudonyms.
        {{ agent_segments.pseudonymous_id('tasks.user_id', 'user') }} as user_id,
        {{ agent_segments.pseudonymous_id('tasks.customer_id', 'cust') }} as customer_id,
        tasks.agent_name,
        tasks.agent_version,
        tasks.task_type,
        coalesce(tasks.team, user_teams.team) as team,
        customer_details.customer_tier,
        {%- if show_customer_names %}
        customer_details.customer_name,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as customer_name,
        {%- endif %}
        tasks.raw_status,
        tasks.outcome,
        tasks.error_type,
        tasks.missing_required_fields,
        tasks.missing_required_fields_bucket,
        tasks.input_filled_fields,
        {{ agent_segments.bucket_label('tasks.input_length_chars', var('input_length_bucket_edges')) }}
            as input_length_bucket,
        case
            when tasks.request_part_count is null or tasks.request_part_count = 0 then '(missing)'
            when tasks.request_part_count = 1 then '1 ask'
            when tasks.request_part_count = 2 then '2 asks'
            else '3+ asks'
        end as request_complexity_bucket,
        tasks.attributes_json,
        tasks.attempt,
        tasks.attempt_count,
        tasks.required_field_count,
        tasks.missing_required_field_count,
        tasks.input_length_chars,
        tasks.request_part_count,
        coalesce(
            ({{ dbt.datediff('tasks.started_at', 'tasks.finished_at', 'millisecond') }}) / 1000.0,  -- noqa: LT05
            tasks.latency_ms / 1000.0
        ) as duration_seconds,
        tasks.latency_ms,
        tasks.cost_usd,
        tasks.input_tokens,
        tasks.output_tokens,
        tasks.outcome in ('success', 'failure') as is_counted,
        tasks.outcome = 'success' as is_success,
        tasks.started_at,
        tasks.finished_at

    from tasks

    left join customer_details
        on tasks.customer_id = customer_details.customer_id

    left join user_teams
        on tasks.user_id = user_teams.user_id

)

select * from tasks_joined
