{#
    One row per (accepted task run, required input field of its task type):
    whether the field is missing from the run's input (absent, null, blank,
    or an empty array or object).
#}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

required_input_fields as (

    select * from {{ ref('required_input_fields') }}

),

required_fields_checked as (

    select
        validated_task_runs.task_run_id,
        required_input_fields.field_name,
        {{ agent_segments.json_value_is_blank(
            'validated_task_runs.input_json', 'required_input_fields.field_name'
        ) }} as is_missing

    from validated_task_runs

    inner join required_input_fields
        on validated_task_runs.task_type = required_input_fields.task_type

    where validated_task_runs.is_accepted

)

select * from required_fields_checked
