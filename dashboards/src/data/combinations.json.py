"""Combinations: top non-redundant slices, two-dimension slices, attribution, Pareto."""

from _warehouse import connect, emit, records

TOP_SLICES = 25
SLICE_COLUMNS = """
    slice_key, slice_dimensions, slice_values, slice_level, status, is_redundant,
    redundant_under_slice_key, task_count, failed_count, completion_rate,
    completion_rate_ci_low, completion_rate_ci_high, overall_completion_rate,
    alert_threshold_rate, gap_pp, failure_share, attributable_share, q_value, is_tested
"""

with connect() as connection:
    top = records(
        connection,
        f"""
        select {SLICE_COLUMNS}
        from marts.segment_slices
        where not is_redundant and gap_pp > 0
        order by
            case status when 'alert' then 0 when 'watch' then 1 else 2 end,
            attributable_share desc nulls last,
            gap_pp desc
        limit {TOP_SLICES}
        """,
    )
    pairs = records(
        connection,
        f"""
        select
            {SLICE_COLUMNS},
            split_part(slice_dimensions, ' AND ', 1) as dimension_a,
            split_part(slice_dimensions, ' AND ', 2) as dimension_b,
            split_part(slice_values, ' AND ', 1) as value_a,
            split_part(slice_values, ' AND ', 2) as value_b
        from marts.segment_slices
        where slice_level = 2
        order by slice_dimensions, slice_values
        """,
    )
    attribution = records(
        connection,
        """
        select
            a.slice_key, a.predicate_dimension, a.predicate_value, a.contribution_pp,
            a.slice_gap_pp, a.contribution_share, s.status, s.task_count
        from marts.slice_attribution as a
        left join marts.segment_slices as s using (slice_key)
        order by a.slice_gap_pp desc, a.slice_key, a.contribution_pp desc
        """,
    )
    pareto = records(
        connection,
        """
        select
            dimension, segment_value, status, failed_count, task_count, failure_share,
            traffic_share, attributable_share, completion_rate, gap_pp, failure_rank,
            cumulative_failure_share, cumulative_traffic_share
        from marts.segment_pareto
        order by dimension, failure_rank, segment_value
        """,
    )

emit({"top_slices": top, "pairs": pairs, "attribution": attribution, "pareto": pareto})
