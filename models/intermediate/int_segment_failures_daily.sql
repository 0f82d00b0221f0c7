{#
    What the early warning needs of each segment's tasks, day by day: for
    each failure, its place among the segment's tasks and failures of its
    day (task_number_in_day, failure_number_in_day), and for each segment
    and day, the day's counts (a day-end row: is_day_end, the numbers of
    the day's last task, and the day's tasks and failures before the
    evaluation window). int_segment_early_warnings adds the counts of the
    segment's earlier days to place every failure in the segment's history.

    Why by day (issue #4): numbering every (task, dimension) row in time
    order was most of the early warning's work, and a task's place within
    its day changes only when its day gains, loses or changes a task. Kept
    day by day (macros/days_to_recount.sql): a day's fingerprint is the
    day's in int_tasks_ordered_in_time hashed with this file; on DuckDB an
    incremental build numbers only the days whose fingerprint changed.
    Elsewhere a table rebuilt at every build (synced_table_materialization).
#}
{{ agent_segments.synced_table_config(['task_date'], present_column='day_fingerprint') }}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

tasks_in_time_order as (

    select * from {{ ref('int_tasks_ordered_in_time') }}

),

{{ agent_segments.day_fingerprints_following(
    ref('int_tasks_ordered_in_time'), 'task_date', 'day_fingerprint', agent_segments.rules_fingerprint([model.name])
) }},

{{ agent_segments.days_to_recount('tasks_in_time_order') }},

segment_tasks as (

    -- One row per (task, dimension) of the days to number.
    {%- for dimension in dimensions %}
    select
        task_date,
        segment_number_{{ loop.index }} as segment_number,
        task_sequence,
        is_success,
        is_in_evaluation_window

    from tasks_to_recount
    {%- if not loop.last %}

    union all

    {% endif %}
    {%- endfor %}

),

segment_tasks_numbered as (

    select
        task_date,
        segment_number,
        task_sequence,
        is_success,
        is_in_evaluation_window,
        row_number() over (partition by segment_number, task_date order by task_sequence) as task_number_in_day

    from segment_tasks

),

failures_placed as (

    select
        task_date,
        segment_number,
        task_sequence,
        false as is_day_end,
        is_in_evaluation_window,
        task_number_in_day,
        row_number() over (partition by segment_number, task_date order by task_sequence) as failure_number_in_day,
        cast(null as bigint) as tasks_before_window,
        cast(null as bigint) as failures_before_window

    from segment_tasks_numbered
    where not is_success

),

day_ends as (

    -- The evaluation window is the latest stretch of time: the tasks before
    -- it are a day's first ones.
    select
        task_date,
        segment_number,
        cast(null as bigint) as task_sequence,
        true as is_day_end,
        cast(null as boolean) as is_in_evaluation_window,
        count(*) as task_number_in_day,
        count(case when not is_success then 1 end) as failure_number_in_day,
        count(case when not is_in_evaluation_window then 1 end) as tasks_before_window,
        count(case when not is_in_evaluation_window and not is_success then 1 end) as failures_before_window

    from segment_tasks
    group by task_date, segment_number

),

day_points as (

    select * from failures_placed
    union all
    select * from day_ends

)

{{ agent_segments.day_kept_rows('day_points', 'task_date') }}
