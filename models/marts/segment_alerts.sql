{#
    One row per alert: a non-redundant alerting slice (single segment or
    combination), with a lifecycle that survives across builds. Each build
    compares the slices alerting now with the previous state of this table:
      new       alerting now, never seen before
      ongoing   alerting now and at the previous build
      resolved  alerted before, not alerting now
      reopened  alerting again after being resolved
    The alert id is a hash of the slice key, so the same segment keeps its id
    and a rebuild on the same data creates no new alert. Incremental with
    full_refresh disabled: `dbt build --full-refresh` keeps the history.
#}
{{
    config(
        materialized='incremental',
        unique_key='alert_id',
        incremental_strategy=agent_segments.replace_by_key_incremental_strategy(),
        full_refresh=false
    )
}}

with

slices_scored as (

    select * from {{ ref('int_slices_scored') }}

),

early_warnings as (

    select * from {{ ref('int_segment_early_warnings') }}

),

build_clock as (

    select cast({{ dbt.current_timestamp() }} as timestamp) as built_at

),

alerting_now as (

    select
        {{ dbt.hash('slices_scored.slice_key') }} as alert_id,
        slices_scored.slice_key,
        slices_scored.slice_dimensions,
        slices_scored.slice_values,
        slices_scored.slice_level,
        slices_scored.task_count,
        slices_scored.failed_count,
        slices_scored.completion_rate,
        slices_scored.completion_rate_ci_low,
        slices_scored.completion_rate_ci_high,
        slices_scored.overall_completion_rate,
        slices_scored.gap_pp,
        slices_scored.failure_share,
        slices_scored.attributable_share,
        slices_scored.q_value,
        -- The data's own "since when" for a single segment: the early
        -- warning's alarm in the current episode.
        early_warnings.current_alarm_at as warned_since_at

    from slices_scored

    left join early_warnings
        on
            slices_scored.slice_level = 1
            and slices_scored.slice_dimensions = early_warnings.dimension
            and slices_scored.slice_values = early_warnings.segment_value

    where slices_scored.status = 'alert' and not slices_scored.is_redundant

),

previous_state as (

    {% if is_incremental() %}
    select * from {{ this }}
    {% else %}
    select * from alerting_now
    where false
    {% endif %}

),

{% if not is_incremental() %}
-- First build: no history yet; the columns below exist only in {{ this }}.
previous_state_typed as (

    select
        alert_id,
        slice_key,
        slice_dimensions,
        slice_values,
        slice_level,
        task_count,
        failed_count,
        completion_rate,
        completion_rate_ci_low,
        completion_rate_ci_high,
        overall_completion_rate,
        gap_pp,
        failure_share,
        attributable_share,
        q_value,
        warned_since_at,
        cast(null as {{ dbt.type_string() }}) as alert_status,
        cast(null as double) as peak_gap_pp,
        cast(null as timestamp) as first_seen_at,
        cast(null as timestamp) as last_seen_at,
        cast(null as timestamp) as resolved_at,
        cast(null as timestamp) as status_changed_at

    from previous_state

),
{% endif %}

merged as (

    select
        previous.alert_status as previous_alert_status,
        previous.status_changed_at as previous_status_changed_at,
        build_clock.built_at,
        coalesce(alerting_now.alert_id, previous.alert_id) as alert_id,
        coalesce(alerting_now.slice_key, previous.slice_key) as slice_key,
        coalesce(alerting_now.slice_dimensions, previous.slice_dimensions) as slice_dimensions,
        coalesce(alerting_now.slice_values, previous.slice_values) as slice_values,
        case
            when alerting_now.alert_id is null then 'resolved'
            when previous.alert_id is null then 'new'
            when previous.alert_status = 'resolved' then 'reopened'
            else 'ongoing'
        end as alert_status,
        coalesce(alerting_now.slice_level, previous.slice_level) as slice_level,
        -- Latest figures: now while alerting, the last alerting build's after.
        coalesce(alerting_now.task_count, previous.task_count) as task_count,
        coalesce(alerting_now.failed_count, previous.failed_count) as failed_count,
        coalesce(alerting_now.completion_rate, previous.completion_rate) as completion_rate,
        coalesce(alerting_now.completion_rate_ci_low, previous.completion_rate_ci_low) as completion_rate_ci_low,
        coalesce(alerting_now.completion_rate_ci_high, previous.completion_rate_ci_high)
            as completion_rate_ci_high,
        coalesce(alerting_now.overall_completion_rate, previous.overall_completion_rate)
            as overall_completion_rate,
        coalesce(alerting_now.gap_pp, previous.gap_pp) as gap_pp,
        -- greatest() skips nulls on DuckDB, Spark and Postgres alike.
        greatest(alerting_now.gap_pp, previous.peak_gap_pp) as peak_gap_pp,
        coalesce(alerting_now.failure_share, previous.failure_share) as failure_share,
        coalesce(alerting_now.attributable_share, previous.attributable_share) as attributable_share,
        coalesce(alerting_now.q_value, previous.q_value) as q_value,
        -- An ongoing alert keeps the start of its episode; a new or reopened one
        -- starts a new episode.
        case
            when previous.alert_status in ('new', 'ongoing', 'reopened')
                then coalesce(previous.warned_since_at, alerting_now.warned_since_at)
            else coalesce(alerting_now.warned_since_at, previous.warned_since_at)
        end as warned_since_at,
        coalesce(previous.first_seen_at, build_clock.built_at) as first_seen_at,
        case
            when alerting_now.alert_id is not null then build_clock.built_at
            else previous.last_seen_at
        end as last_seen_at,
        case
            when alerting_now.alert_id is null then coalesce(previous.resolved_at, build_clock.built_at)
        end as resolved_at

    from alerting_now

    full outer join {{ 'previous_state' if is_incremental() else 'previous_state_typed' }} as previous
        on alerting_now.alert_id = previous.alert_id

    cross join build_clock

),

final as (

    select
        alert_id,
        slice_key,
        slice_dimensions,
        slice_values,
        alert_status,
        slice_level,
        task_count,
        failed_count,
        completion_rate,
        completion_rate_ci_low,
        completion_rate_ci_high,
        overall_completion_rate,
        gap_pp,
        peak_gap_pp,
        failure_share,
        attributable_share,
        q_value,
        warned_since_at,
        first_seen_at,
        last_seen_at,
        resolved_at,
        case
            when previous_alert_status is null or previous_alert_status <> alert_status then built_at
            else previous_status_changed_at
        end as status_changed_at

    from merged

)

select * from final
