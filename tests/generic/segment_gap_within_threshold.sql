{#
    Fails when any segment of `model` is in alert: with at least
    segment_min_tasks tasks, its Wilson upper bound below the overall rate
    minus segment_gap_pp, and significant after Benjamini-Hochberg. Each
    failing row names the segment, its size, rate, interval, gap and share of
    all failures; the rows are stored (schema test_failures) so BI can show
    them. Severity comes from the var segment_gap_severity (error | warn).
    `label_columns` name the segment (dimension and value, or slice_key);
    `where` narrows the rows judged (e.g. combinations that are not
    redundant under an alerting parent).
#}
{% test segment_gap_within_threshold(
    model, status_column='status', label_columns=['dimension', 'segment_value'], where='true'
) %}

{%- set severity = var('segment_gap_severity') -%}
{%- if severity not in ('error', 'warn') -%}
    {{ exceptions.raise_compiler_error(
        "The var segment_gap_severity must be 'error' or 'warn', got '" ~ severity ~ "'"
    ) }}
{%- endif -%}
{{ config(severity=severity, store_failures=true) }}

select
    {{ label_columns | join(', ') }},
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
where {{ status_column }} = 'alert' and ({{ where }})

{% endtest %}
