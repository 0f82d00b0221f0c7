{#
    One row per (accepted task run, required input field of its task type):
    whether the field is missing from the run's input (absent, null, blank,
    or an empty array or object). Staging lists each input's keys that carry
    a value (input_filled_fields), so this is a lookup, not a parse: a view.
#}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

accepted_task_runs as (

    select
        task_run_id,
        task_type,
        input_filled_fields

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
        not coalesce(
            {{ agent_segments.json_array_contains(
                'accepted_task_runs.input_filled_fields', 'required_input_fields.field_name'
            ) }},
            false
        ) as is_missing

    from accepted_task_runs

    inner join required_input_fields
        on accepted_task_runs.task_type = required_input_fields.task_type

)

select * from required_fields_checked
