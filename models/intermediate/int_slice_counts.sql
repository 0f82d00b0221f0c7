-- sqlfluff:dialect:postgres
-- (sqlfluff's duckdb dialect cannot parse GROUPING SETS; the SQL here is plain ANSI.)
{#
    One row per (dimension, segment value) with its task counts, for every
    dimension in the var segment_dimensions, plus one row for the whole
    population (dimension '(overall)', segment value '(all)'). One GROUP BY GROUPING SETS pass
    over the tasks: the fact table is scanned once, not once per dimension.
#}
{%- set dimensions = agent_segments.segment_dimensions() -%}

with

tasks as (

    select * from {{ ref('fct_task_runs') }}

),

task_segment_values as (

    -- A real missing value becomes the segment '(missing)' before grouping,
    -- so a null below can only mean "not grouped by this dimension".
    select
        {%- for dimension in dimensions %}
        coalesce(cast({{ dimension.expression }} as {{ dbt.type_string() }}), '(missing)') as {{ dimension.column }},
        {%- endfor %}
        outcome,
        is_counted,
        is_success

    from tasks

),

segment_counts as (

    select
        case
            {%- for dimension in dimensions %}
            when grouping({{ dimension.column }}) = 0 then '{{ dimension.name }}'
            {%- endfor %}
            else '(overall)'
        end as dimension,
        coalesce(
            {%- for dimension in dimensions %}
            {{ dimension.column }},
            {%- endfor %}
            '(all)'
        ) as segment_value,
        count(case when is_counted then 1 end) as task_count,
        count(case when is_success then 1 end) as completed_count,
        count(case when outcome = 'excluded' then 1 end) as excluded_count

    from task_segment_values

    group by grouping sets (
        {%- for dimension in dimensions %}
        ({{ dimension.column }}),
        {%- endfor %}
        -- The grand total, in the same pass: the population every segment is
        -- compared with.
        ()
    )

)

select * from segment_counts
-- A segment with no counted task has no rate to judge.
where task_count > 0
