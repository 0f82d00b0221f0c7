{#
    One row per accepted task run, with what its input looked like: how many
    of its task type's required fields are missing (and which), how long the
    input is, and how many asks the request holds.
#}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

required_fields_checked as (

    select * from {{ ref('int_input_shapes_required_fields_checked') }}

),

accepted_task_runs as (

    select * from validated_task_runs
    where is_accepted

),

completeness_per_input_shape as (

    select
        task_type,
        input_filled_fields,
        {{ agent_segments.listagg_ordered(
            "case when is_missing then field_name end",
            "', '",
            "field_name"
        ) }} as missing_required_fields,
        count(*) as required_field_count,
        count(case when is_missing then 1 end) as missing_required_field_count

    from required_fields_checked
    group by task_type, input_filled_fields

),

input_scored as (

    select
        accepted_task_runs.task_run_id,
        accepted_task_runs.task_id,
        accepted_task_runs.user_id,
        accepted_task_runs.customer_id,
        accepted_task_runs.agent_name,
        accepted_task_runs.agent_version,
        accepted_task_runs.task_type,
        accepted_task_runs.team,
        accepted_task_runs.raw_status,
        accepted_task_runs.outcome,
        accepted_task_runs.error_type,
        accepted_task_runs.input_filled_fields,
        completeness_per_input_shape.missing_required_fields,
        case
            when coalesce(completeness_per_input_shape.missing_required_field_count, 0) >= 3 then '3+'
            else cast(coalesce(completeness_per_input_shape.missing_required_field_count, 0) as {{ dbt.type_string() }})
        end as missing_required_fields_bucket,
        accepted_task_runs.attributes_json,
        accepted_task_runs.source_file,
        accepted_task_runs.record_number,
        accepted_task_runs.attempt,
        coalesce(completeness_per_input_shape.required_field_count, 0) as required_field_count,
        coalesce(completeness_per_input_shape.missing_required_field_count, 0) as missing_required_field_count,
        accepted_task_runs.input_length_chars,
        accepted_task_runs.request_part_count,
        accepted_task_runs.latency_ms,
        accepted_task_runs.cost_usd,
        accepted_task_runs.input_tokens,
        accepted_task_runs.output_tokens,
        accepted_task_runs.started_at,
        accepted_task_runs.finished_at

    from accepted_task_runs

    -- Task types without required fields have no shape rows: nothing missing.
    left join completeness_per_input_shape
        on
            accepted_task_runs.task_type = completeness_per_input_shape.task_type
            and accepted_task_runs.input_filled_fields = completeness_per_input_shape.input_filled_fields

)

select * from input_scored
