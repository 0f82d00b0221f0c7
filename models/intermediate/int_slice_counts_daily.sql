-- sqlfluff:dialect:postgres
-- (sqlfluff's duckdb dialect cannot parse GROUPING SETS; the SQL here is plain ANSI.)
{#
    The slice counts of int_slice_counts, day by day: one row per (day, slice)
    with tasks on that day in the evaluation window, no minimum support (a
    combination's days are summed first). One GROUP BY GROUPING SETS pass,
    each set with the day.

    Why by day (issue #4): the grouping sets are the work here, and a new
    delivery changes few days. Kept day by day (macros/days_to_recount.sql):
    a day's fingerprint is its fingerprint in
    int_tasks_joined_to_customers_and_users hashed with the counting rules,
    the dimensions and where the evaluation window cuts the day; on DuckDB an
    incremental build counts only the days whose fingerprint changed (new
    days, days with late or re-delivered runs, days entering or leaving the
    evaluation window), replaces their rows, and deletes days left without
    tasks. Elsewhere a table rebuilt at every build (synced_table_materialization).
#}
{{ agent_segments.synced_table_config(['task_date'], present_column='day_fingerprint') }}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
{%- set slice_sets = agent_segments.segment_slice_sets() -%}
{#-
    What a day's counts depend on besides its tasks: the slice sets (vars
    max_slice_level, high_cardinality_dimensions), the dimensions, and the
    SQL of this model and of the views between it and the facts. In the
    fingerprint, so changing any recounts every day.
-#}
{%- set rules = agent_segments.rules_fingerprint(
    [model.name, 'int_tasks_segment_values', 'fct_task_runs'],
    [slice_sets | map('map', attribute='name') | map('join', '+') | join(','),
        dimensions | map(attribute='expression') | join('|'), agent_segments.evaluation_window_rules()]
) -%}

with

task_segment_values as (

    select
        *,
        cast(started_at as date) as task_date

    from {{ ref('int_tasks_segment_values') }}
    where is_in_evaluation_window

),

evaluation_window as (

    {{ agent_segments.evaluation_window_start(ref('int_tasks_joined_to_customers_and_users')) }}

),

task_days_in_window as (

    select
        joined_task.started_date,
        joined_task.day_fingerprint

    from {{ ref('int_tasks_joined_to_customers_and_users') }} as joined_task

    cross join evaluation_window
    where {{ agent_segments.is_in_evaluation_window('joined_task.started_at', 'evaluation_window.window_start_at') }}

),

{{ agent_segments.day_fingerprints_following(
    'task_days_in_window', 'started_date', 'day_fingerprint', rules, evaluation_window='evaluation_window'
) }},

{{ agent_segments.days_to_recount('task_segment_values') }},

daily_slice_counts as (

    select
        task_date,
        {%- for dimension in dimensions %}
        {{ dimension.column }},
        {%- endfor %}
        concat_ws(
            ' AND '
            {%- for dimension in dimensions %},
            case when grouping({{ dimension.column }}) = 0 then '{{ dimension.name }}' end
            {%- endfor %}
        ) as slice_dimensions,
        concat_ws(
            ' AND '
            {%- for dimension in dimensions %},
            case when grouping({{ dimension.column }}) = 0 then '{{ dimension.name }}=' || {{ dimension.column }} end
            {%- endfor %}
        ) as slice_key,
        concat_ws(
            ' AND '
            {%- for dimension in dimensions %},
            case when grouping({{ dimension.column }}) = 0 then {{ dimension.column }} end
            {%- endfor %}
        ) as slice_values,
        0
        {%- for dimension in dimensions %}
        + 1 - grouping({{ dimension.column }})
        {%- endfor %} as slice_level,
        count(case when is_counted then 1 end) as task_count,
        count(case when is_success then 1 end) as completed_count,
        count(case when outcome = 'excluded' then 1 end) as excluded_count

    from tasks_to_recount
    group by grouping sets (
        {%- for slice_set in slice_sets %}
        (task_date, {{ slice_set | map(attribute='column') | join(', ') }}),
        {%- endfor %}
        -- The population, in the same pass.
        (task_date)
    )

)

{{ agent_segments.day_kept_rows('daily_slice_counts', 'task_date') }}
