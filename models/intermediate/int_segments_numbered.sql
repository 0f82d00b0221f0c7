{#
    One row per segment, a (dimension, segment value) of counted tasks, with
    a number: models that walk every (task, dimension) row partition on that
    integer, not on two texts (int_tasks_ordered_in_time,
    int_segment_early_warnings). One row per (dimension, value) by
    construction; the number is a 64-bit hash of the two, tested unique.
#}

{#
    A table: it is small, and the early warning joins it; as a view an
    engine that inlines it (Spark) would aggregate the tasks at every read.
#}
{{ config(materialized='table') }}
{%- set dimensions = agent_segments.segment_dimensions() %}

with

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

distinct_segments as (

    -- Every dimension's values in one pass over the counted tasks, one
    -- grouping set per dimension: the long shape (a row per task and
    -- dimension) would be nine times the tasks. The one column of a set
    -- that is not null is the set's.
    select
        {{ agent_segments.first_constrained_dimension(dimensions, 'segment_value') }}

    from task_segment_values
    where is_counted
    -- sqlfluff's DuckDB dialect cannot parse grouping sets; DuckDB and Spark run them.
    -- noqa: disable=PRS
    group by grouping sets (
        {%- for dimension in dimensions %}
        ({{ dimension.column }}){{ "," if not loop.last }}
        {%- endfor %}
    )
    -- noqa: enable=PRS

),

numbered as (

    select
        dimension,
        segment_value,
        -- A hash, not a rank: a segment keeps its number when other
        -- segments appear, and int_tasks_ordered_in_time computes a task's
        -- numbers from its values. Unique (tested): a collision fails the build.
        {{ agent_segments.segment_number('dimension', 'segment_value') }} as segment_number

    from distinct_segments

)

select * from numbered
