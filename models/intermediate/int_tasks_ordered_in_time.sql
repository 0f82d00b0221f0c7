{#
    One row per counted task: its place in time (task_sequence: by start,
    then task_id), its outcome, whether it is in the evaluation window, and
    its segment in every configured dimension as the segment's number
    (segment_number_1 for the first dimension of segment_dimensions, and so
    on; int_segments_numbered). The early warning walks each segment's tasks
    in this order on integers only.

    task_sequence is the task's day (days since 1970-01-01) times 10^10 plus
    its rank within the day: the same order as one global rank, but a task's
    value changes only when its own day gains or loses a task.
#}

{#
    A table: the early warning reads it once per dimension, and the sort
    that numbers the tasks should run once. Kept day by day
    (macros/days_to_recount.sql): a day's fingerprint is its fingerprint in
    int_tasks_joined_to_customers_and_users hashed with this model's SQL, the
    dimensions and where the evaluation window cuts the day. On DuckDB an
    incremental build orders only the days whose fingerprint changed (new
    days, days with late tasks, days the window's start moved across).
#}
{{ agent_segments.synced_table_config(['task_date'], present_column='day_fingerprint') }}
{%- set dimensions = agent_segments.segment_dimensions() -%}

{#-
    What a day's rows depend on besides its tasks: the dimensions, how a
    segment's number is computed, and the SQL of this model and of the views
    between it and the facts. In the fingerprint, so changing any orders
    every day again.
-#}
{%- set rules = agent_segments.rules_fingerprint(
    [model.name, 'int_tasks_segment_values', 'fct_task_runs'],
    [dimensions | map(attribute='name') | join(','), dimensions | map(attribute='expression') | join('|'),
        agent_segments.segment_number("'dimension'", 'segment_value'),
        agent_segments.evaluation_window_rules(),
        dbt.datediff("cast('1970-01-01' as date)", 'task_date', 'day')]
) -%}

with

task_segment_values as (

    select
        *,
        cast(started_at as date) as task_date

    from {{ ref('int_tasks_segment_values') }}
    where is_counted

),

counted_task_days as (

    select
        started_date,
        day_fingerprint

    from {{ ref('int_tasks_joined_to_customers_and_users') }}
    where is_counted

),

evaluation_window as (

    {{ agent_segments.evaluation_window_start(ref('int_tasks_joined_to_customers_and_users')) }}

),

{{ agent_segments.day_fingerprints_following(
    'counted_task_days', 'started_date', 'day_fingerprint', rules, evaluation_window='evaluation_window'
) }},

{{ agent_segments.days_to_recount('task_segment_values') }},

tasks_ordered as (

    select
        task_segment_values.task_date,
        task_segment_values.task_id,
        task_segment_values.started_at,
        task_segment_values.is_success,
        task_segment_values.is_in_evaluation_window,
        {%- for dimension in dimensions %}
        {%- set value = 'task_segment_values.' ~ dimension.column %}
        {{ agent_segments.segment_number("'" ~ dimension.name ~ "'", value) }} as segment_number_{{ loop.index }},
        {%- endfor %}
        {{ dbt.datediff("cast('1970-01-01' as date)", 'task_segment_values.task_date', 'day') }}
        * 10000000000
        + row_number() over (
            partition by task_segment_values.task_date
            order by task_segment_values.started_at, task_segment_values.task_id
        ) as task_sequence

    from tasks_to_recount as task_segment_values

)

{{ agent_segments.day_kept_rows('tasks_ordered', 'task_date') }}
