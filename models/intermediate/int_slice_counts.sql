-- sqlfluff:dialect:postgres
-- (sqlfluff's duckdb dialect cannot parse GROUPING SETS; the SQL here is plain ANSI.)
{#
    One row per slice: a combination of 1 to max_slice_level segment values
    (macros/segment_slice_sets.sql), with its task counts, plus one row for
    the whole population (slice_level 0). One GROUP BY GROUPING SETS pass over
    the tasks: the table is scanned once, not once per dimension or
    combination. A dimension column is null where the slice does not
    constrain it ("any"); real missing values are already '(missing)'.
    A table: int_slices_scored reads it several times, and Spark would plan
    the grouping sets again at every read of a view.
#}
{{ config(materialized='table') }}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
{%- set slice_sets = agent_segments.segment_slice_sets() -%}

with

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

slice_counts as (

    select
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

    from task_segment_values
    where is_in_evaluation_window

    group by grouping sets (
        {%- for slice_set in slice_sets %}
        ({{ slice_set | map(attribute='column') | join(', ') }}),
        {%- endfor %}
        -- The population, in the same pass.
        ()
    )

)

select * from slice_counts
-- A single segment is kept whatever its size (segment_completion lists
-- them all); a combination needs the minimum support to be worth a row.
where
    slice_level = 0
    or (slice_level = 1 and task_count > 0)
    or task_count >= {{ var('slice_min_support') }}
