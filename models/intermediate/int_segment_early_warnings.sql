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

    How it stays cheap: a task adds one of two values to the running sum
    (a success lowers it, a failure raises it), so the sum after a
    segment's n-th task is n_s * success_ratio + n_f * failure_ratio, from
    counts alone. The statistic can first reach the alarm only at a failure,
    and the running sum's lowest point so far is always just before a
    failure or at the latest task. So only the failures and one latest row
    per segment are walked, each failure placed in its segment's history by
    its place within its day (int_segment_failures_daily, numbered day by
    day, so an incremental build numbers only changed days) plus the
    segment's tasks and failures of earlier days.
#}
{{ config(materialized='table') }}
{%- set gap_rate = var('segment_gap_pp') / 100.0 -%}
{%- set arl0 = var('early_warning_arl0') -%}
{%- if arl0 is not number or arl0 <= 1 -%}
    {{ exceptions.raise_compiler_error("The var early_warning_arl0 must be a number above 1, got " ~ arl0) }}
{%- endif -%}
{#- A window of all data (the default) restarts nowhere: its statistic is the whole one. -#}
{%- set judges_a_window = var('evaluation_window_days') is not none -%}
{%- set window = 'window_' if judges_a_window else '' -%}

with

segments as (

    select * from {{ ref('int_segments_numbered') }}

),

tasks_in_time_order as (

    select * from {{ ref('int_tasks_ordered_in_time') }}

),

population as (

    select avg(case when is_success then 1.0 else 0.0 end) as overall_rate
    from tasks_in_time_order

),

hypothesis_rates as (

    -- Rates are kept inside (0, 1) so the logarithms exist for any agent.
    select
        least(0.9999, greatest(0.0001, overall_rate - {{ gap_rate }} + 0.05)) as acceptable_rate,
        least(0.9999, greatest(0.0001, overall_rate - {{ gap_rate }} - 0.05)) as unacceptable_rate

    from population

),

hypotheses as (

    -- A task's log-likelihood ratio of "the segment runs at the unacceptable
    -- rate" against "it runs at the acceptable one": one value for a
    -- success (negative), one for a failure (positive).
    select
        ln(unacceptable_rate / acceptable_rate) as success_log_likelihood_ratio,
        ln((1 - unacceptable_rate) / (1 - acceptable_rate)) as failure_log_likelihood_ratio,
        ln({{ arl0 }}) as alarm_threshold

    from hypothesis_rates

),

segment_days as (

    select * from {{ ref('int_segment_failures_daily') }}

),

segment_day_offsets as (

    -- Each segment's tasks and failures on its earlier days.
    select
        segment_number,
        task_date,
        cast(coalesce(sum(task_number_in_day) over earlier_days, 0) as {{ dbt.type_bigint() }}) as tasks_before_day,
        cast(coalesce(sum(failure_number_in_day) over earlier_days, 0) as {{ dbt.type_bigint() }})
            as failures_before_day

    from segment_days
    where is_day_end

    window earlier_days as (
        partition by segment_number
        order by task_date
        rows between unbounded preceding and 1 preceding
    )

),

segment_totals as (

    -- The evaluation window is the latest stretch of time, so its tasks are
    -- the last ones of every segment: the counts before it place them.
    select
        segment_number,
        cast(sum(task_number_in_day) as {{ dbt.type_bigint() }}) as task_count,
        cast(sum(failure_number_in_day) as {{ dbt.type_bigint() }}) as failure_count,
        cast(sum(tasks_before_window) as {{ dbt.type_bigint() }}) as tasks_before_window,
        cast(sum(failures_before_window) as {{ dbt.type_bigint() }}) as failures_before_window

    from segment_days
    where is_day_end
    group by segment_number

),

segment_failures as (

    select
        segment_days.segment_number,
        segment_days.task_date,
        segment_days.task_sequence,
        segment_days.is_in_evaluation_window,
        segment_day_offsets.tasks_before_day + segment_days.task_number_in_day as segment_task_number,
        segment_day_offsets.failures_before_day + segment_days.failure_number_in_day as segment_failure_number

    from segment_days

    inner join segment_day_offsets
        on
            segment_days.segment_number = segment_day_offsets.segment_number
            and segment_days.task_date = segment_day_offsets.task_date

    where not segment_days.is_day_end

),

statistic_points as (

    -- Each failure, and each segment's latest task, with the counts so far:
    -- tasks and failures of the segment, and of its evaluation window.
    select
        segment_failures.segment_number,
        segment_failures.task_date,
        segment_failures.task_sequence,
        false as is_latest_task,
        segment_failures.is_in_evaluation_window,
        segment_failures.segment_task_number,
        segment_failures.segment_failure_number,
        segment_failures.segment_task_number - segment_totals.tasks_before_window as window_task_number,
        segment_failures.segment_failure_number - segment_totals.failures_before_window
            as window_failure_number

    from segment_failures

    inner join segment_totals
        on segment_failures.segment_number = segment_totals.segment_number

    union all

    select
        segment_number,
        cast(null as date) as task_date,
        cast(null as bigint) as task_sequence,
        true as is_latest_task,
        task_count > tasks_before_window as is_in_evaluation_window,
        task_count as segment_task_number,
        failure_count as segment_failure_number,
        task_count - tasks_before_window as window_task_number,
        failure_count - failures_before_window as window_failure_number

    from segment_totals

),

running_sums as (

    -- The running sums from the counts; the window's is 0 before it.
    select
        statistic_points.segment_number,
        statistic_points.task_date,
        statistic_points.task_sequence,
        statistic_points.segment_task_number,
        statistic_points.is_latest_task,
        statistic_points.is_in_evaluation_window,
        hypotheses.failure_log_likelihood_ratio,
        hypotheses.alarm_threshold,
        (statistic_points.segment_task_number - statistic_points.segment_failure_number)
        * hypotheses.success_log_likelihood_ratio
        + statistic_points.segment_failure_number * hypotheses.failure_log_likelihood_ratio
            as cumulative_log_likelihood_ratio,
        case
            when statistic_points.is_in_evaluation_window
                then
                    (statistic_points.window_task_number - statistic_points.window_failure_number)
                    * hypotheses.success_log_likelihood_ratio
                    + statistic_points.window_failure_number * hypotheses.failure_log_likelihood_ratio
            else 0.0
        end as window_cumulative_log_likelihood_ratio

    from statistic_points

    cross join hypotheses

),

lowest_candidates as (

    -- Each point's candidate for the running sum's lowest point so far: the
    -- sum just before a failure (0 before the window for the window's sum),
    -- or the latest task's sum.
    select
        *,
        case
            when is_latest_task then cumulative_log_likelihood_ratio
            else cumulative_log_likelihood_ratio - failure_log_likelihood_ratio
        end as lowest_candidate,
        case
            when is_latest_task then window_cumulative_log_likelihood_ratio
            when is_in_evaluation_window
                then window_cumulative_log_likelihood_ratio - failure_log_likelihood_ratio
            else 0.0
        end as window_lowest_candidate

    from running_sums

),

lowest_by_day as (

    -- The lowest candidate of each segment's day among its failures, and of
    -- its earlier days. Two levels because a running minimum framed from a
    -- segment's first failure costs more than twice the minimum within each
    -- day and this (4.9 s against 2.1 s over the 5.5M failures of 10M tasks).
    select
        segment_number,
        task_date,
        {%- if judges_a_window %}
        min(window_lowest_candidate) as window_lowest_in_day,
        min(min(window_lowest_candidate)) over earlier_days as window_lowest_before_day,
        {%- endif %}
        min(lowest_candidate) as lowest_in_day,
        min(min(lowest_candidate)) over earlier_days as lowest_before_day

    from lowest_candidates
    where not is_latest_task
    group by segment_number, task_date

    window earlier_days as (
        partition by segment_number
        order by task_date
        rows between unbounded preceding and 1 preceding
    )

),

failure_statistics as (

    -- S_n = max(0, S_(n-1) + x_n) written without recursion: the running sum
    -- minus its lowest point so far (never above 0), the lower of the
    -- earlier days' lowest candidate and the day's so far.
    select
        lowest_candidates.segment_number,
        lowest_candidates.task_sequence,
        lowest_candidates.segment_task_number,
        lowest_candidates.alarm_threshold,
        {%- if judges_a_window %}
        lowest_candidates.window_cumulative_log_likelihood_ratio - least(
            0.0,
            coalesce(lowest_by_day.window_lowest_before_day, 0.0),
            min(lowest_candidates.window_lowest_candidate) over day_so_far
        ) as window_cusum_statistic,
        {%- endif %}
        lowest_candidates.cumulative_log_likelihood_ratio - least(
            0.0,
            coalesce(lowest_by_day.lowest_before_day, 0.0),
            min(lowest_candidates.lowest_candidate) over day_so_far
        ) as cusum_statistic

    from lowest_candidates

    inner join lowest_by_day
        on
            lowest_candidates.segment_number = lowest_by_day.segment_number
            and lowest_candidates.task_date = lowest_by_day.task_date

    where not lowest_candidates.is_latest_task

    window day_so_far as (
        partition by lowest_candidates.segment_number, lowest_candidates.task_date
        order by lowest_candidates.segment_task_number
        rows between unbounded preceding and current row
    )

),

failure_alarms as (

    -- The first alarm of each statistic and the task that tipped it: a
    -- failure, as the statistic rises only at failures.
    select
        segment_number,
        {%- if judges_a_window %}
        min(case when window_cusum_statistic >= alarm_threshold then task_sequence end)
            as window_first_alarm_task_sequence,
        {%- endif %}
        min(case when cusum_statistic >= alarm_threshold then segment_task_number end)
            as first_alarm_task_number,
        min(case when cusum_statistic >= alarm_threshold then task_sequence end)
            as first_alarm_task_sequence

    from failure_statistics
    group by segment_number

),

lowest_by_segment as (

    select
        segment_number,
        {%- if judges_a_window %}
        min(window_lowest_in_day) as window_lowest_in_history,
        {%- endif %}
        min(lowest_in_day) as lowest_in_history

    from lowest_by_day
    group by segment_number

),

segment_summaries as (

    -- The latest state: the latest task's sum minus the lowest point, its
    -- own sum among the candidates; and the first alarms.
    select
        lowest_candidates.segment_number,
        lowest_candidates.segment_task_number as task_count,
        lowest_candidates.alarm_threshold,
        lowest_candidates.cumulative_log_likelihood_ratio - least(
            0.0, coalesce(lowest_by_segment.lowest_in_history, 0.0), lowest_candidates.lowest_candidate
        ) as cusum_statistic,
        {%- if judges_a_window %}
        lowest_candidates.window_cumulative_log_likelihood_ratio - least(
            0.0, coalesce(lowest_by_segment.window_lowest_in_history, 0.0), lowest_candidates.window_lowest_candidate
        ) as window_cusum_statistic,
        failure_alarms.window_first_alarm_task_sequence,
        {%- endif %}
        failure_alarms.first_alarm_task_number,
        failure_alarms.first_alarm_task_sequence

    from lowest_candidates

    left join lowest_by_segment
        on lowest_candidates.segment_number = lowest_by_segment.segment_number

    left join failure_alarms
        on lowest_candidates.segment_number = failure_alarms.segment_number

    where lowest_candidates.is_latest_task

),

segment_alarms as (

    -- Back to names: the segment, the task that tipped it and when.
    select
        segments.dimension,
        segments.segment_value,
        segment_summaries.task_count,
        segment_summaries.alarm_threshold,
        segment_summaries.cusum_statistic,
        {{ 'segment_summaries.' ~ window ~ 'cusum_statistic' }} as window_cusum_statistic,
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
        on {{ 'segment_summaries.' ~ window ~ 'first_alarm_task_sequence' }} = window_tipping_tasks.task_sequence

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
