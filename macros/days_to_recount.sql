{#
    The models kept day by day (issue #4): the facts
    (int_tasks_joined_to_customers_and_users), the task order, the slice
    counts and the failures by day. Each row carries its day's fingerprint,
    and on DuckDB an incremental build computes only the days whose
    fingerprint differs from the stored one, replaces their rows and deletes
    the days left without tasks (synced_table_config, keyed by the day).

    A day's fingerprint is read, not computed from the day's rows: it is the
    day's fingerprint one model up (`upstream`), hashed with what this model
    adds (`rules`: rules_fingerprint, and the evaluation window's cut of the
    day where the model has one). The chain starts at the deciding run, where
    each task carries a fingerprint of its runs. So finding the changed days
    reads two columns of the model above, not every column of every task.

    day_fingerprints_following: the `day_fingerprints` CTE, one row per day
    of `upstream` (a relation with a day and a fingerprint column per row;
    the relation itself, not a CTE the model's rows also read, which DuckDB
    would first copy whole for its two readers);
    `evaluation_window`, where given, names a one-row CTE with the window's
    start (evaluation_window_start).
    days_to_recount: from the CTE `day_fingerprints`, the days whose
    fingerprint differs from the stored one on an incremental build (a day
    now without tasks comes with a null fingerprint: its stored rows are to
    be deleted), every day otherwise; and `tasks_to_recount`, the rows of
    `tasks` on those days. The caller puts a comma after it, computes its
    rows from tasks_to_recount, and ends with day_kept_rows.
#}
{% macro day_fingerprints_following(
    upstream, upstream_day, upstream_fingerprint, rules, day_column='task_date', evaluation_window=none
) -%}
day_fingerprints as (

    select
        {{ upstream_day }} as {{ day_column }},
        {{ agent_segments.day_fingerprint([
            'max(' ~ upstream_fingerprint ~ ')',
            "'" ~ rules ~ "'",
            agent_segments.evaluation_window_day_cut(upstream_day, evaluation_window ~ '.window_start_at')
                if evaluation_window else "''",
        ]) }} as day_fingerprint

    from {{ upstream }}
    {%- if evaluation_window %}

    cross join {{ evaluation_window }}
    {%- endif %}
    group by {{ upstream_day }}{{ ', ' ~ evaluation_window ~ '.window_start_at' if evaluation_window }}

)
{%- endmacro %}

{#
    A day fingerprint: one hash of its parts, stored as decimal(38, 0), the
    type the day-kept tables had when their fingerprints were sums of
    hashes. A narrower type would make dbt narrow the column of a table
    built by that version (on_schema_change sync_all_columns), and the
    stored sums do not fit: the upgrade would fail instead of recounting.
#}
{% macro day_fingerprint(expressions) -%}
    cast({{ agent_segments.summable_hash(expressions) }} as decimal(38, 0))
{%- endmacro %}

{% macro days_to_recount(tasks, day_column='task_date') -%}
{% if is_incremental() -%}
stored_day_fingerprints as (

    -- A table built by an earlier version may lack the columns: every day
    -- then differs, and its old rows, left without a fingerprint once the
    -- columns are added, are deleted with the gone days' rows.
    select distinct
        {{ agent_segments.stored_column_or_null(day_column, 'date') }},
        {{ agent_segments.stored_column_or_null('day_fingerprint', 'decimal(38, 0)') }}
    from {{ this }}

),

days_to_recount as (

    {{ agent_segments.fingerprints_that_differ(
        'day_fingerprints', 'stored_day_fingerprints', day_column, 'day_fingerprint'
    ) }}

),
{%- else %}
days_to_recount as (

    select * from day_fingerprints

),
{%- endif %}

tasks_to_recount as (

    select * from {{ tasks }}
    {%- if is_incremental() %}
    -- A semi-join, planned with the few days as its build side.
    where {{ day_column }} in (select days_to_recount.{{ day_column }} from days_to_recount)
    {%- endif %}

)
{%- endmacro %}

{#
    The last statement of a day-kept model: its `rows` (a CTE with the day
    column), each with its day's fingerprint (the present_column) and when
    this build started (row_built_at, read by the scoped grain tests:
    macros/rows_built_since_last_pass.sql), and on an incremental build one
    row per day now without tasks, with only the day set
    (synced_rows_deleted removes the day's stored rows and this row).

    A left join with the days on the right: DuckDB then builds its hash
    table on the days. With the days on the left, or an inner join, it
    built it on the tasks (the facts at 10M tasks: 20 s against 4 s).
#}
{% macro day_kept_rows(rows, day_column='task_date') -%}
select
    {{ rows }}.*,
    days_to_recount.day_fingerprint,
    {{ agent_segments.build_started_at() }} as row_built_at

from {{ rows }}

left join days_to_recount
    on {{ rows }}.{{ day_column }} = days_to_recount.{{ day_column }}
    {%- if is_incremental() %}

union all by name

select {{ day_column }}
from days_to_recount
where day_fingerprint is null
    {%- endif %}
{%- endmacro %}

{#
    What a day-kept model's rows depend on besides its input rows, as one
    md5: the files of the models named (the model itself and the views
    between it and the model whose day fingerprint it follows) and texts
    (rendered SQL, var values). A change to any of them recounts every day.
#}
{% macro rules_fingerprint(model_names, texts=[]) -%}
    {%- set parts = [] -%}
    {#- A unit test's context has no graph, and compares no fingerprint. -#}
    {%- set nodes = graph.get('nodes') or {} if execute else {} -%}
    {%- if nodes -%}
        {%- for name in model_names -%}
            {%- set node = nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
            {%- if node is none -%}
                {{ exceptions.raise_compiler_error("rules_fingerprint: no model named " ~ name) }}
            {%- endif -%}
            {%- do parts.append(node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5((parts + texts) | join('|'))) }}
{%- endmacro %}

{#
    Where the evaluation window cuts a day: 'in' (every task of the day is in
    the window), 'out' (none is), or the window's start (some are): what a
    day's tasks' is_in_evaluation_window flags depend on besides the tasks.
    A new latest task moves the start, and with it only the days it crosses.
#}
{% macro evaluation_window_day_cut(day, window_start_at) -%}
    case
        when {{ window_start_at }} is null or cast({{ day }} as timestamp) > {{ window_start_at }} then 'in'
        when cast({{ dbt.dateadd('day', 1, day) }} as timestamp) <= {{ window_start_at }} then 'out'
        else cast({{ window_start_at }} as {{ dbt.type_string() }})
    end
{%- endmacro %}

{#
    The evaluation window's start as one row (window_start_at): the last
    evaluation_window_days days of `tasks` (a relation with started_at),
    counted back from its latest task, not from the clock, so a rebuild of
    the same data judges the same tasks; null (all data) when the var is null.
#}
{% macro evaluation_window_start(tasks) -%}
    {%- set window_days = var('evaluation_window_days') -%}
    {%- if window_days is not none and (window_days is not number or window_days < 1) -%}
        {{ exceptions.raise_compiler_error(
            "The var evaluation_window_days must be a positive number of days or null (all data), got "
            ~ window_days
        ) }}
    {%- endif -%}
    {%- if window_days is none %}
    select cast(null as timestamp) as window_start_at
    {%- else %}
    select {{ dbt.dateadd('day', -1 * window_days, 'max(started_at)') }} as window_start_at
    from {{ tasks }}
    {%- endif %}
{%- endmacro %}

{#-
    The window's SQL as text, for the rules of a model whose rows carry the
    flags (int_tasks_segment_values renders it; its file checksum does not
    cover these macros).
-#}
{% macro evaluation_window_rules() -%}
    {{ return(agent_segments.evaluation_window_start('tasks') ~ '|'
        ~ agent_segments.is_in_evaluation_window('started_at', 'window_start_at')) }}
{%- endmacro %}

{#- Whether a task started at `started_at` is in the window starting at `window_start_at` (null: all data). -#}
{% macro is_in_evaluation_window(started_at, window_start_at) -%}
    coalesce({{ started_at }} > {{ window_start_at }}, true)
{%- endmacro %}
