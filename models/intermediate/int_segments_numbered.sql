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

with

-- The long shape: every dimension's segments from one pass over the tasks.
segment_memberships as (

    select * from {{ ref('int_task_segment_memberships') }}

),

distinct_segments as (

    select
        dimension,
        segment_value

    from segment_memberships
    group by dimension, segment_value

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
