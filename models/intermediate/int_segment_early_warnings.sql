{#
    One row per (dimension, segment value): a Bernoulli CUSUM over the
    segment's tasks in time order, which stays honest however often it is
    looked at (docs/definitions.md, section 6). Per task the log-likelihood
    ratio of "the segment runs at p1" against "it runs at p0", with an
    indifference zone of 5 points around the alert threshold
    (p0 = threshold + 0.05, p1 = threshold - 0.05); the statistic is the
    running sum minus its running minimum, and it alarms at ln(ARL0).
    Reports when it first alarmed, after how many of the segment's tasks,
    the task that tipped it, and where the statistic stands now.
    The statistic has no ceiling, so after a long bad spell it takes long to
    fall: "now" is judged by a second CUSUM restarted at the start of the
    evaluation window (evaluation_window_days), which also dates the current
    episode (current_alarm_at) when a segment relapses.
#}

{#
    A table: the CUSUM walks every task of every segment in time order, and
    two marts (segment_early_warnings, segment_alerts) and its tests read it.
#}
{{ config(materialized='table') }}
{%- set gap_rate = var('segment_gap_pp') / 100.0 -%}
{%- set arl0 = var('early_warning_arl0') -%}
{%- set window_days = var('evaluation_window_days') -%}
{%- set first_dimension = agent_segments.segment_dimensions()[0].name -%}
{%- if arl0 is not number or arl0 <= 1 -%}
    {{ exceptions.raise_compiler_error("The var early_warning_arl0 must be a number above 1, got " ~ arl0) }}
{%- endif -%}

with

memberships as (

    select * from {{ ref('int_task_segment_memberships') }}

),

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

population as (

    select avg(case when is_success then 1.0 else 0.0 end) as overall_rate
    from task_segment_values
    where is_counted

),

hypotheses as (

    -- Rates are kept inside (0, 1) so the logarithms exist for any agent.
    select
        least(0.9999, greatest(0.0001, overall_rate - {{ gap_rate }} + 0.05)) as acceptable_rate,
        least(0.9999, greatest(0.0001, overall_rate - {{ gap_rate }} - 0.05)) as unacceptable_rate,
        ln({{ arl0 }}) as alarm_threshold

    from population

),

tasks_in_time_order as (

    -- Each counted task's place in time (start, then task_id), so the
    -- windows below order on one integer, not a timestamp and a text id.
    -- Every counted task is in every dimension once: one lists them all.
    select
        task_id,
        started_at,
        row_number() over (order by started_at, task_id) as task_sequence

    from memberships
    where dimension = '{{ first_dimension }}'

),

segments as (

    -- Each (dimension, segment value) as one integer, for the same reason.
    select
        dimension,
        segment_value,
        row_number() over (order by dimension, segment_value) as segment_number

    from (
        select distinct
            dimension,
            segment_value

        from memberships
    ) as distinct_segments

),

task_log_likelihood_ratios as (

    select
        segments.segment_number,
        tasks_in_time_order.task_sequence,
        memberships.is_success,
        memberships.is_in_evaluation_window,
        case
            when memberships.is_success
                then ln(hypotheses.unacceptable_rate / hypotheses.acceptable_rate)
            else ln((1 - hypotheses.unacceptable_rate) / (1 - hypotheses.acceptable_rate))
        end as log_likelihood_ratio

    from memberships

    inner join tasks_in_time_order
        on memberships.task_id = tasks_in_time_order.task_id

    inner join segments
        on
            memberships.dimension = segments.dimension
            and memberships.segment_value = segments.segment_value

    cross join hypotheses

),

cumulative as (

    -- The one pass over every (task, dimension) row, on the few columns it
    -- needs: a window sorts everything it carries.
    select
        segment_number,
        task_sequence,
        is_success,
        row_number() over segment_history as segment_task_number,
        sum(log_likelihood_ratio) over segment_history as cumulative_log_likelihood_ratio,
        {%- if window_days is none %}
        -- No evaluation window: the window's statistic is the whole one.
        sum(log_likelihood_ratio) over segment_history as window_cumulative_log_likelihood_ratio,
        {%- else %}
        -- Tasks before the window add nothing: the sum starts at the window.
        sum(case when is_in_evaluation_window then log_likelihood_ratio else 0 end) over segment_history
            as window_cumulative_log_likelihood_ratio,
        {%- endif %}
        -- The same order without a frame (Spark allows none on lead).
        lead(is_success) over segment_order as next_is_success

    from task_log_likelihood_ratios

    window
        segment_history as (
            partition by segment_number
            order by task_sequence
            rows between unbounded preceding and current row
        ),

        segment_order as (
            partition by segment_number
            order by task_sequence
        )

),

turning_points as (

    -- A success lowers the running sum and a failure raises it, so the
    -- statistic can first reach the alarm only at a failure, and the sum's
    -- lowest point so far is always the task before a failure or the
    -- latest one. Only those rows go on: about twice the failures, a
    -- fraction of the rows, for the second pass.
    select *
    from cumulative
    where
        not is_success
        or next_is_success is null
        or not next_is_success

),

cusum as (

    -- S_n = max(0, S_(n-1) + x_n) written without recursion: the running sum
    -- minus its lowest point so far (never above 0).
    select
        turning_points.*,
        hypotheses.alarm_threshold,
        turning_points.cumulative_log_likelihood_ratio
        - least(0.0, min(turning_points.cumulative_log_likelihood_ratio) over segment_history)
            as cusum_statistic,
        turning_points.window_cumulative_log_likelihood_ratio
        - least(0.0, min(turning_points.window_cumulative_log_likelihood_ratio) over segment_history)
            as window_cusum_statistic

    from turning_points

    cross join hypotheses

    window segment_history as (
        partition by turning_points.segment_number
        order by turning_points.task_sequence
        rows between unbounded preceding and current row
    )

),

segment_summaries as (

    -- One pass over the CUSUM: the latest state (the segment's last task),
    -- the first alarm of each statistic and the task that tipped it.
    -- min_by / max_by skip rows whose ordering value is null (no alarm).
    select
        segment_number,
        -- The latest task is always a turning point.
        max(segment_task_number) as task_count,
        max(alarm_threshold) as alarm_threshold,
        max_by(cusum_statistic, segment_task_number) as cusum_statistic,
        max_by(window_cusum_statistic, segment_task_number) as window_cusum_statistic,
        min(case when cusum_statistic >= alarm_threshold then segment_task_number end) as first_alarm_task_number,
        min(case when cusum_statistic >= alarm_threshold then task_sequence end) as first_alarm_task_sequence,
        min(case when window_cusum_statistic >= alarm_threshold then task_sequence end)
            as window_first_alarm_task_sequence

    from cusum
    group by segment_number

),

segment_alarms as (

    -- Back to names: the segment, the task that tipped it and when.
    select
        segments.dimension,
        segments.segment_value,
        segment_summaries.task_count,
        segment_summaries.alarm_threshold,
        segment_summaries.cusum_statistic,
        segment_summaries.window_cusum_statistic,
        segment_summaries.first_alarm_task_number,
        tipping_tasks.task_id as tipping_task_id,
        tipping_tasks.started_at as first_alarm_at,
        window_tipping_tasks.started_at as window_first_alarm_at

    from segment_summaries

    inner join segments
        on segment_summaries.segment_number = segments.segment_number

    left join tasks_in_time_order as tipping_tasks
        on segment_summaries.first_alarm_task_sequence = tipping_tasks.task_sequence

    left join tasks_in_time_order as window_tipping_tasks
        on segment_summaries.window_first_alarm_task_sequence = window_tipping_tasks.task_sequence

),

final as (

    select
        dimension,
        segment_value,
        tipping_task_id,
        task_count,
        first_alarm_task_number as tasks_until_first_alarm,
        cusum_statistic,
        window_cusum_statistic,
        alarm_threshold,
        first_alarm_at,
        -- The current episode: the first alarm since the evaluation window
        -- began, if the segment is alarming now.
        case when window_cusum_statistic >= alarm_threshold then window_first_alarm_at end as current_alarm_at,
        first_alarm_task_number is not null as has_alarmed,
        window_cusum_statistic >= alarm_threshold as is_alarming_now

    from segment_alarms

)

select * from final
