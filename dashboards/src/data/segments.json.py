"""Segments: every (dimension, segment value) of marts.segment_completion."""

from _warehouse import connect, emit, records

with connect() as connection:
    rows = records(
        connection,
        """
        select
            dimension, segment_value, status, task_count, completed_count, failed_count,
            completion_rate, completion_rate_ci_low, completion_rate_ci_high,
            overall_completion_rate, alert_threshold_rate, gap_pp, gap_to_rest_pp,
            failure_share, traffic_share, attributable_share, q_value,
            shrunk_completion_rate, is_tested
        from marts.segment_completion
        order by dimension, gap_pp desc, segment_value
        """,
    )

emit(rows)
