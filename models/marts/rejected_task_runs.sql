{#
    One row per raw record that was not accepted, with the rule it broke.
    Together with the accepted runs this accounts for every raw record.
#}

with

validated_task_runs as (

    select * from {{ ref('int_task_runs_validated') }}

),

rejected as (

    select
        source_file,
        record_number,
        task_run_id,
        rejection_reason,
        rejection_detail,
        raw_record

    from validated_task_runs
    where not is_accepted

)

select * from rejected
