{#
    One row per (dimension, segment value), segments of each dimension
    ranked by their share of all failures, with the running (cumulative)
    failure and traffic shares and the attributable share beside them, so
    "80% of failures come from X" is one query away and read against the
    traffic X carries.
#}

with

slices_scored as (

    select * from {{ ref('int_slices_scored') }}

),

segments as (

    select * from slices_scored
    where slice_level = 1

),

ranked as (

    select
        slice_dimensions as dimension,
        slice_values as segment_value,
        status,
        failed_count,
        task_count,
        failure_share,
        traffic_share,
        attributable_share,
        completion_rate,
        gap_pp,
        row_number() over (
            partition by slice_dimensions
            order by failed_count desc, slice_values asc
        ) as failure_rank

    from segments

),

cumulative as (

    select
        *,
        sum(failure_share) over (
            partition by dimension
            order by failure_rank
            rows between unbounded preceding and current row
        ) as cumulative_failure_share,
        sum(traffic_share) over (
            partition by dimension
            order by failure_rank
            rows between unbounded preceding and current row
        ) as cumulative_traffic_share

    from ranked

)

select * from cumulative
