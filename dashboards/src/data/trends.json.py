"""Trends: weekly completion per segment, the overall line, interventions."""

from _warehouse import connect, emit, records, relation_exists

with connect() as connection:
    weekly = records(
        connection,
        """
        select
            dimension, segment_value, period_start, task_count, completed_count,
            completion_rate, completion_rate_ci_low, completion_rate_ci_high, gap_pp
        from marts.segment_completion_periodic
        where grain = 'week'
        order by dimension, segment_value, period_start
        """,
    )
    overall = records(
        connection,
        """
        select
            period_start,
            any_value(overall_task_count) as task_count,
            any_value(overall_completion_rate) as completion_rate
        from marts.segment_completion_periodic
        where grain = 'week'
        group by period_start
        order by period_start
        """,
    )
    segments = records(
        connection,
        """
        select dimension, segment_value, status, gap_pp, task_count
        from marts.segment_completion
        order by dimension, gap_pp desc
        """,
    )
    interventions = (
        records(
            connection,
            """
            select
                intervention_id, intervention_date, slice_key, description,
                before_task_count, before_completion_rate, after_task_count,
                after_completion_rate, before_gap_to_rest_pp, after_gap_to_rest_pp,
                difference_in_differences_pp, difference_in_differences_ci_low_pp,
                difference_in_differences_ci_high_pp, is_gap_closed, expects_gap_closed
            from marts.intervention_effects
            order by intervention_date, intervention_id
            """,
        )
        if relation_exists(connection, "marts", "intervention_effects")
        else []
    )

emit({"weekly": weekly, "overall": overall, "segments": segments, "interventions": interventions})
