{#
    One row per slice: a combination of 1 to max_slice_level segment values
    (macros/segment_slice_sets.sql), with its task counts, plus one row for
    the whole population (slice_level 0). The day-by-day counts summed
    (int_slice_counts_daily, where the grouping sets run); a dimension column
    is null where the slice does not constrain it ("any"); real missing
    values are already '(missing)'. A table: int_slices_scored reads it
    several times.
#}
{#- Sums of counts are cast back to counts: DuckDB sums bigints as hugeints. -#}
{{ config(materialized='table') }}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
{%- set slice_columns = dimensions | map(attribute='column') | list
    + ['slice_dimensions', 'slice_key', 'slice_values', 'slice_level'] -%}

with

daily_slice_counts as (

    select * from {{ ref('int_slice_counts_daily') }}

),

slice_counts as (

    select
        {%- for column in slice_columns %}
        {{ column }},
        {%- endfor %}
        cast(sum(task_count) as {{ dbt.type_bigint() }}) as task_count,
        cast(sum(completed_count) as {{ dbt.type_bigint() }}) as completed_count,
        cast(sum(excluded_count) as {{ dbt.type_bigint() }}) as excluded_count

    from daily_slice_counts
    where slice_level > 0
    group by {{ slice_columns | join(', ') }}

),

population as (

    -- One row even without a task in the evaluation window.
    select
        {%- for dimension in dimensions %}
        cast(null as {{ dbt.type_string() }}) as {{ dimension.column }},
        {%- endfor %}
        '' as slice_dimensions,
        '' as slice_key,
        '' as slice_values,
        0 as slice_level,
        cast(coalesce(sum(task_count), 0) as {{ dbt.type_bigint() }}) as task_count,
        cast(coalesce(sum(completed_count), 0) as {{ dbt.type_bigint() }}) as completed_count,
        cast(coalesce(sum(excluded_count), 0) as {{ dbt.type_bigint() }}) as excluded_count

    from daily_slice_counts
    where slice_level = 0

)

select * from population

union all

select * from slice_counts
-- A single segment is kept whatever its size (segment_completion lists
-- them all); a combination needs the minimum support to be worth a row.
where
    (slice_level = 1 and task_count > 0)
    or task_count >= {{ var('slice_min_support') }}
