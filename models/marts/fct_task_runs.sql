{#
    One row per task: its deciding (latest) run, the outcome, the attempt
    count and every segment feature. BI tools and the segment marts read it.
    User and customer ids are pseudonyms; no request text, input or raw
    record is carried (docs/privacy.md). On DuckDB an incremental build
    writes only the tasks whose row changed, compared day by day
    (macros/synced_rows.sql); elsewhere a table rebuilt at every build.
#}
{{ agent_segments.synced_table_config(['task_id'], present_column='task_run_id', on_schema_change='fail') }}

with

tasks as (

    select * from {{ ref('int_tasks_joined_to_customers_and_users') }}

),

final as (

    select
        task_id,
        task_run_id,
        user_id,
        customer_id,
        agent_name,
        agent_version,
        task_type,
        team,
        customer_tier,
        customer_name,
        raw_status,
        outcome,
        error_type,
        missing_required_fields,
        missing_required_fields_bucket,
        input_filled_fields,
        input_length_bucket,
        request_complexity_bucket,
        attributes_json,
        attempt,
        attempt_count,
        required_field_count,
        missing_required_field_count,
        input_length_chars,
        request_part_count,
        duration_seconds,
        latency_ms,
        cost_usd,
        input_tokens,
        output_tokens,
        is_counted,
        is_success,
        cast(started_at as date) as started_date,
        started_at,
        finished_at

    from tasks

)

{{ agent_segments.synced_rows('final', ['task_id'], bucket='started_date') }}
