{#
    One row per (grain, period, dimension, segment value): the segment's
    completion in that day or week against the period's overall rate, and
    over the rolling window of rolling_window_days days ending with the
    period. What BI tools chart as trends. Weeks start on Monday (UTC).
#}
{%- set z = agent_segments.normal_quantile(var('segment_confidence')) -%}
{%- set rolling_days = var('rolling_window_days') -%}
{%- if rolling_days is not number or rolling_days < 1 -%}
    {{ exceptions.raise_compiler_error("The var rolling_window_days must be a positive number, got " ~ rolling_days) }}
{%- endif -%}

with

segments as (

    select * from {{ ref('int_segments_numbered') }}

),

segment_days_kept as (

    select * from {{ ref('int_segment_failures_daily') }}

),

tasks_in_time_order as (

    select * from {{ ref('int_tasks_ordered_in_time') }}

),

segment_days as (

    -- A segment's counted tasks and failures of a day are its day-end row
    -- in the failures by day, kept day by day: read, not counted again from
    -- every task of the history.
    select
        segments.dimension,
        segments.segment_value,
        segment_days_kept.task_date as period_start,
        segment_days_kept.task_number_in_day as task_count,
        segment_days_kept.task_number_in_day - segment_days_kept.failure_number_in_day as completed_count

    from segment_days_kept

    inner join segments
        on segment_days_kept.segment_number = segments.segment_number

    where segment_days_kept.is_day_end

),

overall_days as (

    select
        task_date as period_start,
        count(*) as overall_task_count,
        count(case when is_success then 1 end) as overall_completed_count

    from tasks_in_time_order
    group by task_date

),

-- Weeks are summed from days.
segment_periods as (

    select
        'day' as grain,
        dimension,
        segment_value,
        period_start,
        task_count,
        completed_count

    from segment_days

    union all

    select
        'week' as grain,
        dimension,
        segment_value,
        cast({{ dbt.date_trunc('week', 'period_start') }} as date) as period_start,
        cast(sum(task_count) as {{ dbt.type_bigint() }}) as task_count,
        cast(sum(completed_count) as {{ dbt.type_bigint() }}) as completed_count

    from segment_days
    group by dimension, segment_value, cast({{ dbt.date_trunc('week', 'period_start') }} as date)

),

overall_periods as (

    select
        'day' as grain,
        period_start,
        overall_task_count,
        overall_completed_count

    from overall_days

    union all

    select
        'week' as grain,
        cast({{ dbt.date_trunc('week', 'period_start') }} as date) as period_start,
        cast(sum(overall_task_count) as {{ dbt.type_bigint() }}) as overall_task_count,
        cast(sum(overall_completed_count) as {{ dbt.type_bigint() }}) as overall_completed_count

    from overall_days
    group by cast({{ dbt.date_trunc('week', 'period_start') }} as date)

),

periods_joined as (

    select
        segment_periods.grain,
        segment_periods.dimension,
        segment_periods.segment_value,
        segment_periods.period_start,
        segment_periods.task_count,
        segment_periods.completed_count,
        overall_periods.overall_task_count,
        overall_periods.overall_completed_count,
        {{ dbt.datediff("cast('1970-01-01' as date)", 'segment_periods.period_start', 'day') }} as period_day_number  -- noqa: LT05

    from segment_periods

    inner join overall_periods
        on
            segment_periods.grain = overall_periods.grain
            and segment_periods.period_start = overall_periods.period_start

),

rolling as (

    -- Periods whose start lies within the window's days, this one included.
    select
        *,
        cast(sum(task_count) over rolling_window as {{ dbt.type_bigint() }}) as rolling_task_count,
        cast(sum(completed_count) over rolling_window as {{ dbt.type_bigint() }})
            as rolling_completed_count

    from periods_joined

    window rolling_window as (
        partition by grain, dimension, segment_value
        order by period_day_number
        range between {{ rolling_days - 1 }} preceding and current row
    )

),

overall_rolling as (

    select
        grain,
        period_start,
        cast(sum(overall_task_count) over overall_window as {{ dbt.type_bigint() }})
            as rolling_overall_task_count,
        cast(sum(overall_completed_count) over overall_window as {{ dbt.type_bigint() }})
            as rolling_overall_completed_count

    from overall_periods

    window overall_window as (
        partition by grain
        order by {{ dbt.datediff("cast('1970-01-01' as date)", 'period_start', 'day') }}
        range between {{ rolling_days - 1 }} preceding and current row
    )

),

final as (

    select
        rolling.grain,
        rolling.period_start,
        rolling.dimension,
        rolling.segment_value,
        rolling.task_count,
        rolling.completed_count,
        rolling.completed_count / cast(rolling.task_count as double) as completion_rate,
        {{ agent_segments.wilson_bound('rolling.completed_count', 'rolling.task_count', z, 'lower') }}
            as completion_rate_ci_low,
        {{ agent_segments.wilson_bound('rolling.completed_count', 'rolling.task_count', z, 'upper') }}
            as completion_rate_ci_high,
        rolling.overall_task_count,
        rolling.overall_completed_count / cast(rolling.overall_task_count as double) as overall_completion_rate,
        100 * (
            rolling.overall_completed_count / cast(rolling.overall_task_count as double)
            - rolling.completed_count / cast(rolling.task_count as double)
        ) as gap_pp,
        rolling.rolling_task_count,
        rolling.rolling_completed_count / cast(rolling.rolling_task_count as double) as rolling_completion_rate,
        {{ agent_segments.wilson_bound('rolling.rolling_completed_count', 'rolling.rolling_task_count', z, 'lower') }}
            as rolling_completion_rate_ci_low,
        {{ agent_segments.wilson_bound('rolling.rolling_completed_count', 'rolling.rolling_task_count', z, 'upper') }}
            as rolling_completion_rate_ci_high,
        overall_rolling.rolling_overall_completed_count
        / cast(overall_rolling.rolling_overall_task_count as double) as rolling_overall_completion_rate,
        100 * (
            overall_rolling.rolling_overall_completed_count / cast(overall_rolling.rolling_overall_task_count as double)
            - rolling.rolling_completed_count / cast(rolling.rolling_task_count as double)
        ) as rolling_gap_pp

    from rolling

    inner join overall_rolling
        on
            rolling.grain = overall_rolling.grain
            and rolling.period_start = overall_rolling.period_start

)

select * from final
