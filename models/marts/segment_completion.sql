{#
    One row per (dimension, segment value): completion of the segment's
    tasks against the whole population, with honest statistics and a status
    (alert / watch / ok). The single-dimension slices of int_slices_scored:
    the table BI tools chart and the gap test gates.
#}

with

slices_scored as (

    select * from {{ ref('int_slices_scored') }}

),

final as (

    select
        slice_dimensions as dimension,
        slice_values as segment_value,
        status,
        task_count,
        completed_count,
        failed_count,
        excluded_count,
        completion_rate,
        completion_rate_ci_low,
        completion_rate_ci_high,
        overall_completion_rate,
        alert_threshold_rate,
        gap_pp,
        rest_completion_rate,
        gap_to_rest_pp,
        failure_share,
        traffic_share,
        lift,
        attributable_share,
        p_value,
        q_value,
        shrunk_completion_rate,
        is_tested,
        is_naive_gap

    from slices_scored
    where slice_level = 1

)

select * from final
