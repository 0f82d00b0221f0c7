{#
    One row per task: its deciding (latest) run, the outcome, the attempt
    count and every segment feature. BI tools and the segment marts read it.
    User and customer ids are pseudonyms; no request text, input or raw
    record is carried (docs/privacy.md).

    On DuckDB a view: the rows are stored, day by day, in
    int_tasks_joined_to_customers_and_users, which an incremental build
    rewrites only on the days that changed (issue #4); as a table this mart
    would be copied whole at every build. Where the models are plain tables
    rebuilt at every build (Spark), a table: readers there read each mart's
    Parquet files.
#}
{{ config(materialized='view' if agent_segments.synced_table_materialization() == 'incremental' else 'table') }}

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
        started_date,
        started_at,
        finished_at

    from tasks

)

select * from final
