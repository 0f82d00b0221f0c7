{#
    One row per (input shape, required input field of its task type), with
    whether inputs of that shape miss the field (absent, null, blank, or an
    empty array or object). An input shape is a task type with the set of
    input keys that carry a value (input_filled_fields, from staging): every
    accepted run has one, and runs share few of them (176 among 1M demo runs),
    so the check and the lists built from it are computed per shape, not per
    run. A table: small, and read by input scoring and input_field_gaps_by_customer.
#}
{{ config(materialized='table') }}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

input_shapes as (

    select distinct
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
        input_shapes.task_type,
        input_shapes.input_filled_fields,
        required_input_fields.field_name,
        not coalesce(
            {{ agent_segments.json_array_contains(
                'input_shapes.input_filled_fields', 'required_input_fields.field_name'
            ) }},
            false
        ) as is_missing

    from input_shapes

    inner join required_input_fields
        on input_shapes.task_type = required_input_fields.task_type

)

select * from required_fields_checked
