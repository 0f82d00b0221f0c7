{#
    One row per raw record that was not accepted, with the rule it broke.
    Together with the accepted runs this accounts for every raw record.
    No raw text reaches this mart (docs/privacy.md): not the record, and no
    value from it in the detail, which only ever holds a contract field name
    or where the kept copy of a duplicate is. source_file and record_number
    point whoever fixes the producer at the line to open.
#}
{%- set contract_field_names = agent_segments.task_run_contract_fields() | map(attribute='name') | list -%}
{%- set timestamp_field_names = agent_segments.task_run_contract_fields()
    | selectattr('kind', 'equalto', 'timestamp') | map(attribute='name') | list -%}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

rejected as (

    select * from validated_task_runs
    where not is_accepted

),

kept_deliveries as (

    -- The accepted copy of a task run is the one a duplicate's detail points
    -- at. Only the duplicates' runs are looked up: the accepted runs are
    -- nearly every run of the history, the duplicates a handful.
    select
        task_run_id,
        source_file || ':' || cast(record_number as {{ dbt.type_string() }}) as kept_record_location

    from validated_task_runs
    where
        is_accepted
        and task_run_id in (
            select rejected.task_run_id from rejected
            where rejected.rejection_reason in ('duplicate_delivery', 'conflicting_duplicate')
        )

),

rejected_with_safe_detail as (

    select
        rejected.source_file,
        rejected.record_number,
        rejected.task_run_id,
        rejected.rejection_reason,
        -- Rebuilt from the reason rather than passed on: the validation
        -- model's detail quotes raw values (timestamps, statuses).
        case
            when rejected.rejection_reason in ('duplicate_delivery', 'conflicting_duplicate')
                then 'kept at ' || kept_deliveries.kept_record_location
            when rejected.rejection_reason = 'unknown_status' then 'status'
            {%- for field_name in timestamp_field_names %}
            when
                rejected.rejection_reason in ('unparseable_timestamp', 'timestamp_in_future')
                and rejected.rejection_detail like '{{ field_name }}:%'
                then '{{ field_name }}'
            {%- endfor %}
            when
                rejected.rejection_reason in (
                    'invalid_type', 'missing_required_field', 'input_not_an_object', 'attributes_not_an_object'
                )
                and rejected.rejection_detail in (
                    {%- for field_name in contract_field_names %}
                    '{{ field_name }}'{{ ',' if not loop.last }}
                    {%- endfor %}
                )
                then rejected.rejection_detail
        end as rejection_detail

    from rejected

    left join kept_deliveries
        on rejected.task_run_id = kept_deliveries.task_run_id

)

select * from rejected_with_safe_detail
