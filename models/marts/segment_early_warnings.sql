{#
    One row per (dimension, segment value): the sequential early warning
    (Bernoulli CUSUM) over the segment's whole history: whether and when it
    first alarmed, after how many of the segment's tasks, the task that
    tipped it, and whether it is alarming now.
#}

with

early_warnings as (

    select * from {{ ref('int_segment_early_warnings') }}

)

select * from early_warnings
