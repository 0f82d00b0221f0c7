{#
    One row per (accepted task run, required input field of its task type):
    whether the field is missing from the run's input (absent, null, blank,
    or an empty array or object).
#}

{#
    A table: input_scored and the mart input_field_gaps_by_customer both read
    it, and each check parses the run's input JSON.
#}
{{ config(materialized='table') }}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

accepted_task_runs as (

    -- Each input is parsed once here, not once per required field.
    select
        task_run_id,
        task_type,
        input_json,
        {{ agent_segments.json_object_entries('input_json') }} as input_entries

    from validated_task_runs
    where is_accepted

),

required_input_fields as (

    select * from {{ ref('required_input_fields') }}

),

required_fields_checked as (

    select
        accepted_task_runs.task_run_id,
        required_input_fields.field_name,
        {{ agent_segments.json_value_is_blank(
            'accepted_task_runs.input_json', 'required_input_fields.field_name', 'accepted_task_runs.input_entries'
        ) }} as is_missing

    from accepted_task_runs

    inner join required_input_fields
        on accepted_task_runs.task_type = required_input_fields.task_type

)

select * from required_fields_checked
