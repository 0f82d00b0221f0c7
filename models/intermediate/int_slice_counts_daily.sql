-- sqlfluff:dialect:postgres
-- (sqlfluff's duckdb dialect cannot parse GROUPING SETS; the SQL here is plain ANSI.)
{#
    The slice counts of int_slice_counts, day by day: one row per (day, slice)
    with tasks on that day in the evaluation window, no minimum support (a
    combination's days are summed first). One GROUP BY GROUPING SETS pass,
    each set with the day.

    Why by day (issue #4): the grouping sets are the work here, and a new
    delivery changes few days. Each row carries its day's fingerprint, a sum
    of hashes over the day's tasks and every value counted; on DuckDB an
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
    max_slice_level, high_cardinality_dimensions) and this file. In the
    fingerprint, so changing either recounts every day.
-#}
{%- set counting_rules = slice_sets | map('map', attribute='name') | map('join', '+') | join(',')
    ~ '|' ~ model.get('checksum', {}).get('checksum', '') -%}
{%- set fingerprinted = ['task_id', 'outcome', 'is_counted', 'is_success']
    + dimensions | map(attribute='column') | list
    + ["'" ~ counting_rules ~ "'"] -%}

with

task_segment_values as (

    select
        *,
        cast(started_at as date) as task_date

    from {{ ref('int_tasks_segment_values') }}
    where is_in_evaluation_window

),

{{ agent_segments.days_to_recount('task_segment_values', fingerprinted) }},

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

),

final as (

    -- A day left without tasks keeps only its date here (synced_rows_deleted).
    select
        days_to_recount.task_date,
        days_to_recount.day_fingerprint,
        {%- for dimension in dimensions %}
        daily_slice_counts.{{ dimension.column }},
        {%- endfor %}
        daily_slice_counts.slice_dimensions,
        daily_slice_counts.slice_key,
        daily_slice_counts.slice_values,
        daily_slice_counts.slice_level,
        daily_slice_counts.task_count,
        daily_slice_counts.completed_count,
        daily_slice_counts.excluded_count

    from days_to_recount

    left join daily_slice_counts
        on days_to_recount.task_date = daily_slice_counts.task_date

)

select * from final
