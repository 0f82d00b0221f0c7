{#
    One row per (alerting combination, predicate): how much of the
    combination's gap each of its predicates contributes, as the Shapley
    split of the divergence (DivExplorer): for a slice S of k predicates and
    a predicate i,
        phi_i = sum over subsets T of S holding i:     w(|T|-1) * gap(T)
              - sum over subsets T of S not holding i: w(|T|)   * gap(T),
        w(j) = j! (k-j-1)! / k!, gap(empty set) = 0.
    The contributions add up to the combination's gap_pp. Every subset of an
    alerting combination is itself a slice (it holds at least as many tasks).
#}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}

with

slices_scored as (

    select * from {{ ref('int_slices_scored') }}

),

slice_predicates as (

    -- One row per (slice, predicate).
    {%- for dimension in dimensions %}
    select
        slice_key,
        slice_level,
        gap_pp,
        '{{ dimension.name }}' as predicate_dimension,
        {{ dimension.column }} as predicate_value

    from slices_scored
    where {{ dimension.column }} is not null
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

alerting_combination_predicates as (

    select slice_predicates.*
    from slice_predicates

    inner join slices_scored
        on slice_predicates.slice_key = slices_scored.slice_key

    where
        slices_scored.status = 'alert'
        and not slices_scored.is_redundant
        and slices_scored.slice_level >= 2

),

combination_subsets as (

    -- T is a subset of S when every predicate of T is one of S.
    select
        alerting_combination_predicates.slice_key,
        alerting_combination_predicates.slice_level,
        slice_predicates.slice_key as subset_slice_key,
        slice_predicates.slice_level as subset_level,
        slice_predicates.gap_pp as subset_gap_pp

    from alerting_combination_predicates

    inner join slice_predicates
        on
            alerting_combination_predicates.predicate_dimension = slice_predicates.predicate_dimension
            and alerting_combination_predicates.predicate_value = slice_predicates.predicate_value

    group by
        alerting_combination_predicates.slice_key,
        alerting_combination_predicates.slice_level,
        slice_predicates.slice_key,
        slice_predicates.slice_level,
        slice_predicates.gap_pp

    having count(*) = slice_predicates.slice_level

),

shapley_terms as (

    select
        alerting_combination_predicates.slice_key,
        alerting_combination_predicates.predicate_dimension,
        alerting_combination_predicates.predicate_value,
        case
            when subset_holds_predicate.slice_key is not null
                then exp(
                    {{ agent_segments.log_factorial('combination_subsets.subset_level - 1') }}
                    + {{ agent_segments.log_factorial(
                        'combination_subsets.slice_level - combination_subsets.subset_level'
                    ) }}
                    - {{ agent_segments.log_factorial('combination_subsets.slice_level') }}
                ) * combination_subsets.subset_gap_pp
            else -exp(
                {{ agent_segments.log_factorial('combination_subsets.subset_level') }}
                + {{ agent_segments.log_factorial(
                    'combination_subsets.slice_level - combination_subsets.subset_level - 1'
                ) }}
                - {{ agent_segments.log_factorial('combination_subsets.slice_level') }}
            ) * combination_subsets.subset_gap_pp
        end as shapley_term_pp

    from alerting_combination_predicates

    inner join combination_subsets
        on alerting_combination_predicates.slice_key = combination_subsets.slice_key

    left join slice_predicates as subset_holds_predicate
        on
            combination_subsets.subset_slice_key = subset_holds_predicate.slice_key
            and alerting_combination_predicates.predicate_dimension = subset_holds_predicate.predicate_dimension

),

contributions as (

    select
        slice_key,
        predicate_dimension,
        predicate_value,
        sum(shapley_term_pp) as contribution_pp

    from shapley_terms
    group by slice_key, predicate_dimension, predicate_value

),

final as (

    select
        contributions.slice_key,
        contributions.predicate_dimension,
        contributions.predicate_value,
        contributions.contribution_pp,
        slices_scored.gap_pp as slice_gap_pp,
        contributions.contribution_pp / nullif(slices_scored.gap_pp, 0) as contribution_share

    from contributions

    inner join slices_scored
        on contributions.slice_key = slices_scored.slice_key

)

select * from final
