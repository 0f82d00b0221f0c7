{#
    The CTEs of a model kept day by day (int_slice_counts_daily,
    int_segment_failures_daily): each day's fingerprint, a sum of 64-bit
    hashes of `fingerprinted` over the day's rows of `tasks` (a CTE with a
    task_date column); `days_to_recount`, the days whose fingerprint differs
    from the stored one on an incremental build (a day now without tasks
    comes with a null fingerprint: its stored rows are to be deleted), every
    day otherwise; and `tasks_to_recount`, the rows of those days. The
    caller puts a comma after it and ends with one row per day to recount,
    its fingerprint on every row (synced_table_config's present_column).
#}
{% macro days_to_recount(tasks, fingerprinted) -%}
day_fingerprints as (

    select
        task_date,
        sum({{ agent_segments.summable_hash(fingerprinted) }}) as day_fingerprint

    from {{ tasks }}
    group by task_date

),

{% if is_incremental() -%}
stored_day_fingerprints as (

    select distinct
        task_date,
        day_fingerprint
    from {{ this }}

),

days_to_recount as (

    {{ agent_segments.fingerprints_that_differ(
        'day_fingerprints', 'stored_day_fingerprints', 'task_date', 'day_fingerprint'
    ) }}

),
{%- else %}
days_to_recount as (

    select * from day_fingerprints

),
{%- endif %}

tasks_to_recount as (

    select {{ tasks }}.*

    from {{ tasks }}
    {%- if is_incremental() %}

    inner join days_to_recount
        on {{ tasks }}.task_date = days_to_recount.task_date
    {%- endif %}

)
{%- endmacro %}
