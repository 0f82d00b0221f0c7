{#
    Fails when any segment of `model` is in alert: with at least
    segment_min_tasks tasks, its Wilson upper bound below the overall rate
    minus segment_gap_pp, and significant after Benjamini-Hochberg. Each
    failing row names the segment, its size, rate, interval, gap and share of
    all failures; the rows are stored (schema test_failures) so BI can show
    them. Severity comes from the var segment_gap_severity (error | warn).
#}
{% test segment_gap_within_threshold(model, status_column='status') %}

{%- set severity = var('segment_gap_severity') -%}
{%- if severity not in ('error', 'warn') -%}
    {{ exceptions.raise_compiler_error(
        "The var segment_gap_severity must be 'error' or 'warn', got '" ~ severity ~ "'"
    ) }}
{%- endif -%}
{{ config(severity=severity, store_failures=true) }}

select
    dimension,
    segment_value,
    task_count,
    failed_count,
    completion_rate,
    completion_rate_ci_low,
    completion_rate_ci_high,
    overall_completion_rate,
    gap_pp,
    failure_share,
    q_value

from {{ model }}
where {{ status_column }} = 'alert'

{% endtest %}
