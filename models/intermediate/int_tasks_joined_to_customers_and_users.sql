{#
    One row per task, with who triggered it (customer tier from
    customers.csv, team from the run or else from users.csv) and its input
    and request bucketed into segment values. User and customer ids leave
    here as pseudonyms (macros/pseudonymous_id.sql): every mart reads them
    from this model, so none sees a delivered id (docs/privacy.md). With
    show_customer_names, customer_name holds the name from customers.csv.

    A table kept day by day (macros/days_to_recount.sql), which fct_task_runs
    shows. A day's fingerprint is the sum of its tasks' runs fingerprints
    (int_tasks_reduced_to_deciding_run) hashed with customers.csv's and
    users.csv's rows and this model's SQL: on DuckDB an incremental build
    joins only the days whose fingerprint changed (new days, days with late
    or re-delivered runs) and rewrites only those. Computing every task and
    comparing the rows cost 6 s at 10M tasks with nothing new; the day
    fingerprints 0.2 s. Elsewhere a table rebuilt at every build.
#}
{{ agent_segments.synced_table_config(['started_date'], present_column='day_fingerprint') }}
{%- set show_customer_names = var('show_customer_names') -%}
{%- if show_customer_names is not sameas true and show_customer_names is not sameas false -%}
    {{ exceptions.raise_compiler_error(
        "The var show_customer_names must be true or false, got " ~ show_customer_names
    ) }}
{%- endif %}

{#- The row's columns, also in the day fingerprint: a change of the salt, a bucket
    edge or show_customer_names changes the SQL and so every day. -#}
{%- set task_columns -%}
        deciding_run.task_id,
        deciding_run.task_run_id,
        -- Joined below on the delivered ids, shown as pseudonyms.
        {{ agent_segments.pseudonymous_id('deciding_run.user_id', 'user') }} as user_id,
        {{ agent_segments.pseudonymous_id('deciding_run.customer_id', 'cust') }} as customer_id,
        deciding_run.agent_name,
        deciding_run.agent_version,
        deciding_run.task_type,
        coalesce(deciding_run.team, user_teams.team) as team,
        customer_details.customer_tier,
        {{ 'customer_details.customer_name' if show_customer_names else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
            as customer_name,
        deciding_run.raw_status,
        deciding_run.outcome,
        deciding_run.error_type,
        deciding_run.missing_required_fields,
        deciding_run.missing_required_fields_bucket,
        deciding_run.input_filled_fields,
        {{ agent_segments.bucket_label('deciding_run.input_length_chars', var('input_length_bucket_edges')) }}
            as input_length_bucket,
        case
            when deciding_run.request_part_count is null or deciding_run.request_part_count = 0 then '(missing)'
            when deciding_run.request_part_count = 1 then '1 ask'
            when deciding_run.request_part_count = 2 then '2 asks'
            else '3+ asks'
        end as request_complexity_bucket,
        deciding_run.attributes_json,
        deciding_run.attempt,
        deciding_run.attempt_count,
        deciding_run.required_field_count,
        deciding_run.missing_required_field_count,
        deciding_run.input_length_chars,
        deciding_run.request_part_count,
        coalesce(
            ({{ dbt.datediff('deciding_run.started_at', 'deciding_run.finished_at', 'millisecond') }}) / 1000.0,  -- noqa: LT05
            deciding_run.latency_ms / 1000.0
        ) as duration_seconds,
        deciding_run.latency_ms,
        deciding_run.cost_usd,
        deciding_run.input_tokens,
        deciding_run.output_tokens,
        deciding_run.outcome in ('success', 'failure') as is_counted,
        deciding_run.outcome = 'success' as is_success,
        deciding_run.started_at,
        deciding_run.finished_at
{%- endset %}

with

tasks as (

    select
        *,
        cast(started_at as date) as started_date

    from {{ ref('int_tasks_reduced_to_deciding_run') }}

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

lookup_fingerprints as (

    -- One row: what every task's row depends on besides its runs.
    select
        {{ agent_segments.summable_hash([
            '(select sum(' ~ agent_segments.summable_hash([agent_segments.whole_row('customer')]) ~ ') from customers as customer)',
            '(select sum(' ~ agent_segments.summable_hash([agent_segments.whole_row('app_user')]) ~ ') from users as app_user)',
            "'" ~ agent_segments.rules_fingerprint([model.name], [task_columns]) ~ "'",
        ]) }} as lookups_fingerprint

),

day_fingerprints as (

    -- Two columns of the deciding runs, not the tasks CTE: a second reader
    -- of that would make DuckDB copy every column of every task first.
    select
        cast(deciding_run.started_at as date) as started_date,
        {{ agent_segments.day_fingerprint([
            'sum(deciding_run.runs_fingerprint)', 'lookup_fingerprints.lookups_fingerprint'
        ]) }} as day_fingerprint

    from {{ ref('int_tasks_reduced_to_deciding_run') }} as deciding_run

    cross join lookup_fingerprints
    group by cast(deciding_run.started_at as date), lookup_fingerprints.lookups_fingerprint

),

{{ agent_segments.days_to_recount('tasks', day_column='started_date') }},

tasks_joined as (

    select
        deciding_run.started_date,
        {{ task_columns }}

    from tasks_to_recount as deciding_run

    left join customer_details
        on deciding_run.customer_id = customer_details.customer_id

    left join user_teams
        on deciding_run.user_id = user_teams.user_id

)

{{ agent_segments.day_kept_rows('tasks_joined', 'started_date') }}
