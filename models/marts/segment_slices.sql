{#
    One row per slice: every single segment and every combination of up to
    max_slice_level segment values with enough tasks, with the statistics of
    segment_completion, one column per dimension (null = any), whether a
    combination only repeats an alerting parent, and for an alert a handful of
    its latest failed task ids to open.
#}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
{%- set example_count = 5 -%}
{#- A task falls in a slice when it matches every dimension the slice constrains. -#}
{%- set dimension_matches = [] -%}
{%- for dimension in dimensions -%}
    {%- do dimension_matches.append(
        '(alerting_slices.' ~ dimension.column ~ ' is null or alerting_slices.' ~ dimension.column
        ~ ' = task_segment_values.' ~ dimension.column ~ ')'
    ) -%}
{%- endfor -%}

with

slices_scored as (

    select * from {{ ref('int_slices_scored') }}

),

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

daily_slice_counts as (

    select * from {{ ref('int_slice_counts_daily') }}

),

configured_dimensions as (

    {{ agent_segments.configured_dimension_rows() }}

),

alerting_slices as (

    select
        *,
        -- The first dimension the slice constrains and its value there: the
        -- slice's failures are found by an equality join on the two, the
        -- other constraints checked on the matches. One join on every
        -- constraint at once ("null or equal") cannot be a hash join: at 10M
        -- tasks it compared every alerting slice with every failure.
        {{ agent_segments.first_constrained_dimension(dimensions, 'first_constrained_value') }}

    from slices_scored
    where status = 'alert' and not is_redundant

),

example_days as (

    -- The days that hold each alerting slice's latest failures: from the
    -- latest day back to the day that brings its failures to example_count
    -- (all its days if it has fewer). The failures are looked for there
    -- only, not among every task of the history.
    select
        slice_key,
        min(task_date) as first_example_date

    from (
        select
            daily_slice_counts.slice_key,
            daily_slice_counts.task_date,
            coalesce(sum(daily_slice_counts.task_count - daily_slice_counts.completed_count) over later_days, 0)
                as failures_on_later_days

        from daily_slice_counts

        inner join alerting_slices
            on daily_slice_counts.slice_key = alerting_slices.slice_key

        where daily_slice_counts.task_count > daily_slice_counts.completed_count

        window later_days as (
            partition by daily_slice_counts.slice_key
            order by daily_slice_counts.task_date desc
            rows between unbounded preceding and 1 preceding
        )
    ) as slice_failure_days

    where failures_on_later_days < {{ example_count }}
    group by slice_key

),

failures_by_dimension as (

    -- Each failure in the window since the earliest example day, once per
    -- dimension, with its value there: one pass over those tasks.
    select
        task_segment_values.*,
        configured_dimensions.dimension,
        {{ agent_segments.dimension_value('configured_dimensions.dimension', 'task_segment_values') }}
            as dimension_value

    from task_segment_values

    cross join configured_dimensions

    where
        task_segment_values.is_in_evaluation_window
        and task_segment_values.is_counted
        and not task_segment_values.is_success
        and task_segment_values.started_at >= (
            select cast(min(example_days.first_example_date) as timestamp) from example_days
        )

),

alerting_slice_failures as (

    select
        alerting_slices.slice_key,
        task_segment_values.task_id,
        row_number() over (
            partition by alerting_slices.slice_key
            order by task_segment_values.started_at desc, task_segment_values.task_id asc
        ) as failure_recency_rank

    from alerting_slices

    inner join example_days
        on alerting_slices.slice_key = example_days.slice_key

    inner join failures_by_dimension as task_segment_values
        on
            task_segment_values.started_at >= cast(example_days.first_example_date as timestamp)
            and alerting_slices.dimension = task_segment_values.dimension
            and alerting_slices.first_constrained_value = task_segment_values.dimension_value
            and {{ dimension_matches | join('\n            and ') }}

),

example_failed_tasks as (

    select
        slice_key,
        {{ agent_segments.listagg_ordered('task_id', "', '", 'failure_recency_rank') }} as example_failed_task_ids

    from alerting_slice_failures
    where failure_recency_rank <= {{ example_count }}
    group by slice_key

),

final as (

    select
        slices_scored.slice_key,
        slices_scored.slice_dimensions,
        slices_scored.slice_values,
        {%- for dimension in dimensions %}
        slices_scored.{{ dimension.column }},
        {%- endfor %}
        slices_scored.status,
        slices_scored.redundant_under_slice_key,
        example_failed_tasks.example_failed_task_ids,
        slices_scored.slice_level,
        slices_scored.task_count,
        slices_scored.completed_count,
        slices_scored.failed_count,
        slices_scored.excluded_count,
        slices_scored.completion_rate,
        slices_scored.completion_rate_ci_low,
        slices_scored.completion_rate_ci_high,
        slices_scored.overall_completion_rate,
        slices_scored.alert_threshold_rate,
        slices_scored.gap_pp,
        slices_scored.rest_completion_rate,
        slices_scored.gap_to_rest_pp,
        slices_scored.failure_share,
        slices_scored.traffic_share,
        slices_scored.lift,
        slices_scored.attributable_share,
        slices_scored.p_value,
        slices_scored.q_value,
        slices_scored.shrunk_completion_rate,
        slices_scored.is_tested,
        slices_scored.is_naive_gap,
        slices_scored.is_redundant

    from slices_scored

    left join example_failed_tasks
        on slices_scored.slice_key = example_failed_tasks.slice_key

)

select * from final
