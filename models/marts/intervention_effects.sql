{#
    One row per intervention in seeds/interventions.csv: did the fix work?
    The intervention's slice (any slice_key, e.g. `customer=cust_northwind`
    or `customer_tier=enterprise AND missing_required_fields=3+`) is compared
    before and after its date, over intervention_window_days on each side,
    and against the rest of the population over the same windows
    (difference-in-differences), so a change that lifted everyone is not
    credited to the fix.
#}
{%- set z = agent_segments.normal_quantile(var('segment_confidence')) -%}
{%- set window_days = var('intervention_window_days') -%}
{%- set max_predicates = 4 -%}

with

interventions as (

    select * from {{ ref('interventions') }}

),

memberships as (

    select * from {{ ref('int_task_segment_memberships') }}

),

task_segment_values as (

    select * from {{ ref('int_tasks_segment_values') }}

),

intervention_predicates as (

    -- 'a=x AND b=y' -> one row per predicate (dimension, value).
    {%- for part in range(1, max_predicates + 1) %}
    select
        intervention_id,
        {{ dbt.split_part('slice_key', "' AND '", part) }} as predicate

    from interventions
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

predicates_parsed as (

    select
        intervention_id,
        {{ dbt.split_part('predicate', "'='", 1) }} as dimension,
        substring(predicate, length({{ dbt.split_part('predicate', "'='", 1) }}) + 2) as segment_value

    from intervention_predicates
    where predicate is not null and predicate <> ''

),

predicate_counts as (

    select
        intervention_id,
        count(*) as predicate_count

    from predicates_parsed
    group by intervention_id

),

slice_tasks as (

    -- A task is in the slice when it matches every predicate.
    select
        predicates_parsed.intervention_id,
        memberships.task_id

    from predicates_parsed

    inner join memberships
        on
            predicates_parsed.dimension = memberships.dimension
            and predicates_parsed.segment_value = memberships.segment_value

    inner join predicate_counts
        on predicates_parsed.intervention_id = predicate_counts.intervention_id

    group by predicates_parsed.intervention_id, memberships.task_id, predicate_counts.predicate_count
    having count(*) = predicate_counts.predicate_count

),

tasks_in_windows as (

    select
        interventions.intervention_id,
        task_segment_values.task_id,
        task_segment_values.is_success,
        slice_tasks.task_id is not null as is_in_slice,
        task_segment_values.started_at >= cast(interventions.intervention_date as timestamp) as is_after

    from interventions

    inner join task_segment_values
        on
            task_segment_values.started_at
            >= {{ dbt.dateadd('day', -1 * window_days, 'cast(interventions.intervention_date as timestamp)') }}
            and task_segment_values.started_at
            < {{ dbt.dateadd('day', window_days, 'cast(interventions.intervention_date as timestamp)') }}

    left join slice_tasks
        on
            interventions.intervention_id = slice_tasks.intervention_id
            and task_segment_values.task_id = slice_tasks.task_id

    where task_segment_values.is_counted

),

window_counts as (

    select
        intervention_id,
        count(case when is_in_slice and not is_after then 1 end) as before_task_count,
        count(case when is_in_slice and not is_after and is_success then 1 end) as before_completed_count,
        count(case when is_in_slice and is_after then 1 end) as after_task_count,
        count(case when is_in_slice and is_after and is_success then 1 end) as after_completed_count,
        count(case when not is_in_slice and not is_after then 1 end) as rest_before_task_count,
        count(case when not is_in_slice and not is_after and is_success then 1 end) as rest_before_completed_count,
        count(case when not is_in_slice and is_after then 1 end) as rest_after_task_count,
        count(case when not is_in_slice and is_after and is_success then 1 end) as rest_after_completed_count

    from tasks_in_windows
    group by intervention_id

),

rates as (

    select
        *,
        before_completed_count / cast(nullif(before_task_count, 0) as double) as before_completion_rate,
        after_completed_count / cast(nullif(after_task_count, 0) as double) as after_completion_rate,
        rest_before_completed_count / cast(nullif(rest_before_task_count, 0) as double)
            as rest_before_completion_rate,
        rest_after_completed_count / cast(nullif(rest_after_task_count, 0) as double)
            as rest_after_completion_rate

    from window_counts

),

effects as (

    select
        *,
        100 * (rest_before_completion_rate - before_completion_rate) as before_gap_to_rest_pp,
        100 * (rest_after_completion_rate - after_completion_rate) as after_gap_to_rest_pp,
        100 * (
            (after_completion_rate - before_completion_rate)
            - (rest_after_completion_rate - rest_before_completion_rate)
        ) as difference_in_differences_pp,
        -- Normal approximation: the four rates are independent samples.
        100 * {{ z }} * sqrt(
            before_completion_rate * (1 - before_completion_rate) / nullif(before_task_count, 0)
            + after_completion_rate * (1 - after_completion_rate) / nullif(after_task_count, 0)
            + rest_before_completion_rate * (1 - rest_before_completion_rate) / nullif(rest_before_task_count, 0)
            + rest_after_completion_rate * (1 - rest_after_completion_rate) / nullif(rest_after_task_count, 0)
        ) as difference_in_differences_margin_pp

    from rates

),

final as (

    select
        interventions.intervention_id,
        interventions.slice_key,
        interventions.description,
        effects.before_task_count,
        effects.before_completion_rate,
        {{ agent_segments.wilson_bound('effects.before_completed_count', 'effects.before_task_count', z, 'lower') }}
            as before_completion_rate_ci_low,
        {{ agent_segments.wilson_bound('effects.before_completed_count', 'effects.before_task_count', z, 'upper') }}
            as before_completion_rate_ci_high,
        effects.after_task_count,
        effects.after_completion_rate,
        {{ agent_segments.wilson_bound('effects.after_completed_count', 'effects.after_task_count', z, 'lower') }}
            as after_completion_rate_ci_low,
        {{ agent_segments.wilson_bound('effects.after_completed_count', 'effects.after_task_count', z, 'upper') }}
            as after_completion_rate_ci_high,
        effects.rest_before_completion_rate,
        effects.rest_after_completion_rate,
        effects.before_gap_to_rest_pp,
        effects.after_gap_to_rest_pp,
        effects.difference_in_differences_pp,
        effects.difference_in_differences_pp - effects.difference_in_differences_margin_pp
            as difference_in_differences_ci_low_pp,
        effects.difference_in_differences_pp + effects.difference_in_differences_margin_pp
            as difference_in_differences_ci_high_pp,
        coalesce(
            effects.after_gap_to_rest_pp < {{ var('segment_gap_pp') }}
            and effects.difference_in_differences_pp - effects.difference_in_differences_margin_pp > 0,
            false
        ) as is_gap_closed,
        interventions.expects_gap_closed,
        interventions.intervention_date

    from interventions

    left join effects
        on interventions.intervention_id = effects.intervention_id

)

select * from final
