"""Overview: the overall rate, the current alerts and the worst segments."""

from _warehouse import connect, emit, records

WORST_SEGMENTS = 12

with connect() as connection:
    overall = records(
        connection,
        """
        select
            count(*) as task_count,
            count(*) filter (where is_counted) as counted_count,
            count(*) filter (where is_counted and is_success) as completed_count,
            count(*) filter (where is_counted and not is_success) as failed_count,
            count(*) filter (where not is_counted) as excluded_count,
            min(started_at) as first_started_at,
            max(started_at) as last_started_at,
            (select count(*) from marts.rejected_task_runs) as rejected_count
        from marts.fct_task_runs
        """,
    )[0]
    rates = records(
        connection,
        """
        select
            any_value(overall_completion_rate) as overall_completion_rate,
            any_value(alert_threshold_rate) as alert_threshold_rate,
            count(*) filter (where status = 'alert') as alerting_segments,
            count(*) filter (where status = 'watch') as watched_segments,
            count(*) as segments
        from marts.segment_completion
        """,
    )[0]
    alerts = records(
        connection,
        """
        select
            slice_key, slice_dimensions, slice_values, alert_status, slice_level,
            task_count, failed_count, completion_rate,
            completion_rate_ci_low, completion_rate_ci_high, overall_completion_rate,
            gap_pp, peak_gap_pp, failure_share, attributable_share, q_value,
            warned_since_at, first_seen_at, last_seen_at, resolved_at
        from marts.segment_alerts
        order by alert_status = 'resolved', attributable_share desc nulls last, gap_pp desc
        """,
    )
    worst = records(
        connection,
        f"""
        select
            dimension, segment_value, status, task_count, failed_count, completion_rate,
            completion_rate_ci_low, completion_rate_ci_high, gap_pp, failure_share,
            attributable_share, q_value
        from marts.segment_completion
        where is_tested
        order by gap_pp desc, dimension, segment_value
        limit {WORST_SEGMENTS}
        """,
    )

emit({"overall": {**overall, **rates}, "alerts": alerts, "worst_segments": worst})
