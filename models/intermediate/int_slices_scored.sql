{#
    One row per slice (a single segment or a combination) with the
    statistics that judge it against the whole population: Wilson interval,
    gap to the overall rate and to the rest, concentration shares, one-sided
    Fisher exact p-value, Benjamini-Hochberg q-value over every tested slice
    of the run, empirical-Bayes shrunken rate, the resulting status, and for
    a combination whether it only repeats an alerting parent.
    Formulas: docs/definitions.md.
#}
{#
    A table: the Fisher sums are the expensive step, and four marts read
    the result.
#}
{{ config(materialized='table') }}
{%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
{%- set z = agent_segments.normal_quantile(var('segment_confidence')) -%}
{%- set gap_rate = var('segment_gap_pp') / 100.0 -%}
{%- if var('segment_gap_pp') is not number or var('segment_gap_pp') <= 0 or var('segment_gap_pp') >= 100 -%}
    {{ exceptions.raise_compiler_error("The var segment_gap_pp must be a number of percentage points in (0, 100), got " ~ var('segment_gap_pp')) }}
{%- endif -%}
{%- if var('segment_fdr') is not number or var('segment_fdr') <= 0 or var('segment_fdr') >= 1 -%}
    {{ exceptions.raise_compiler_error("The var segment_fdr must be a rate in (0, 1), got " ~ var('segment_fdr')) }}
{%- endif -%}
{%- if var('segment_min_tasks') is not number or var('segment_min_tasks') < 1 -%}
    {{ exceptions.raise_compiler_error("The var segment_min_tasks must be a positive number of tasks, got " ~ var('segment_min_tasks')) }}
{%- endif -%}

with

slice_counts as (

    select * from {{ ref('int_slice_counts') }}

),

population as (

    select
        task_count as population_task_count,
        completed_count as population_completed_count,
        task_count - completed_count as population_failed_count

    from slice_counts
    where slice_level = 0

),

segments as (

    select
        slice_counts.slice_key,
        slice_counts.slice_dimensions,
        slice_counts.slice_values,
        {%- for dimension in dimensions %}
        slice_counts.{{ dimension.column }},
        {%- endfor %}
        slice_counts.slice_level,
        slice_counts.task_count,
        slice_counts.completed_count,
        slice_counts.excluded_count,
        population.population_task_count,
        population.population_completed_count,
        population.population_failed_count,
        slice_counts.task_count - slice_counts.completed_count as failed_count,
        slice_counts.completed_count / cast(slice_counts.task_count as double) as completion_rate,
        population.population_completed_count
        / cast(population.population_task_count as double) as overall_completion_rate

    from slice_counts

    cross join population

    where slice_counts.slice_level > 0

),

-- Fisher's exact test, one-sided: how likely is a segment of this size to
-- hold at least this many of the population's failures by chance? The sum
-- runs over the hypergeometric upper tail, cut where the terms are below
-- double precision (20 + 12 standard deviations past the larger of the
-- observed count and the mean).
tested_segments as (

    select
        slice_key,
        task_count,
        failed_count,
        population_task_count,
        population_failed_count,
        least(
            task_count,
            population_failed_count,
            cast(floor(
                greatest(
                    cast(failed_count as double),
                    task_count * population_failed_count / cast(population_task_count as double)
                )
                + 20
                + 12 * sqrt(
                    task_count
                    * (population_failed_count / cast(population_task_count as double))
                    * (1 - population_failed_count / cast(population_task_count as double))
                    * (population_task_count - task_count)
                    / cast(greatest(population_task_count - 1, 1) as double)
                )
            ) as {{ dbt.type_bigint() }})
        ) as tail_stop

    from segments
    where task_count >= {{ var('segment_min_tasks') }}

),

fisher_tail_terms as (

    select
        slice_key,
        task_count,
        population_task_count,
        population_failed_count,
        {{ agent_segments.integer_range_rows('failed_count', 'tail_stop') }} as tail_failed_count

    from tested_segments

),

fisher_p_values as (

    select
        slice_key,
        least(1.0, sum(exp(
            {{ agent_segments.log_choose('population_failed_count', 'tail_failed_count') }}
            + {{ agent_segments.log_choose(
                'population_task_count - population_failed_count',
                'task_count - tail_failed_count'
            ) }}
            - {{ agent_segments.log_choose('population_task_count', 'task_count') }}
        ))) as p_value

    from fisher_tail_terms
    group by slice_key

),

-- Benjamini-Hochberg over every tested slice of the run, single segments
-- and combinations alike: q_(i) = min over j >= i of m * p_(j) / j.
p_values_ranked as (

    select
        slice_key,
        p_value,
        row_number() over (order by p_value, slice_key) as p_value_rank,
        count(*) over () as tested_segment_count

    from fisher_p_values

),

q_values as (

    select
        slice_key,
        p_value,
        least(1.0, min(tested_segment_count * p_value / p_value_rank) over (
            order by p_value_rank desc
            rows between unbounded preceding and current row
        )) as q_value

    from p_values_ranked

),

-- Empirical Bayes: one beta prior per dimension or combination of
-- dimensions, fitted by the method of moments, pulls small slices toward
-- their siblings' mean.
dimension_means as (

    select
        slice_dimensions,
        sum(completed_count) / cast(sum(task_count) as double) as prior_mean,
        var_pop(completion_rate) as rate_variance

    from segments
    group by slice_dimensions

),

dimension_priors as (

    select
        dimension_means.slice_dimensions,
        dimension_means.prior_mean,
        dimension_means.rate_variance - avg(
            dimension_means.prior_mean * (1 - dimension_means.prior_mean) / segments.task_count
        ) as between_segment_variance

    from dimension_means

    inner join segments
        on dimension_means.slice_dimensions = segments.slice_dimensions

    group by dimension_means.slice_dimensions, dimension_means.prior_mean, dimension_means.rate_variance

),

dimension_prior_strengths as (

    select
        slice_dimensions,
        prior_mean,
        between_segment_variance,
        case
            when between_segment_variance > 0
                then prior_mean * (1 - prior_mean) / between_segment_variance - 1
        end as prior_strength

    from dimension_priors

),

scored as (

    select
        segments.slice_key,
        segments.slice_dimensions,
        segments.slice_values,
        {%- for dimension in dimensions %}
        segments.{{ dimension.column }},
        {%- endfor %}
        segments.slice_level,
        segments.task_count,
        segments.completed_count,
        segments.failed_count,
        segments.excluded_count,
        segments.completion_rate,
        {{ agent_segments.wilson_bound('segments.completed_count', 'segments.task_count', z, 'lower') }}
            as completion_rate_ci_low,
        {{ agent_segments.wilson_bound('segments.completed_count', 'segments.task_count', z, 'upper') }}
            as completion_rate_ci_high,
        segments.overall_completion_rate,
        segments.overall_completion_rate - {{ gap_rate }} as alert_threshold_rate,
        100 * (segments.overall_completion_rate - segments.completion_rate) as gap_pp,
        case
            when segments.population_task_count > segments.task_count
                then
                    (segments.population_completed_count - segments.completed_count)
                    / cast(segments.population_task_count - segments.task_count as double)
        end as rest_completion_rate,
        case
            when segments.population_failed_count > 0
                then segments.failed_count / cast(segments.population_failed_count as double)
        end as failure_share,
        segments.task_count / cast(segments.population_task_count as double) as traffic_share,
        case
            when segments.population_failed_count > 0
                then
                    (segments.failed_count / cast(segments.task_count as double))
                    / (segments.population_failed_count / cast(segments.population_task_count as double))
        end as lift,
        case
            when segments.population_failed_count > 0 and segments.population_task_count > segments.task_count
                then (
                    segments.failed_count
                    - segments.task_count
                    * (segments.population_failed_count - segments.failed_count)
                    / cast(segments.population_task_count - segments.task_count as double)
                ) / segments.population_failed_count
        end as attributable_share,
        q_values.p_value,
        q_values.q_value,
        case
            when
                dimension_prior_strengths.between_segment_variance <= 0
                or dimension_prior_strengths.between_segment_variance is null
                then dimension_prior_strengths.prior_mean
            when dimension_prior_strengths.prior_strength <= 0 then segments.completion_rate
            else
                (
                    segments.completed_count
                    + dimension_prior_strengths.prior_mean * dimension_prior_strengths.prior_strength
                )
                / (segments.task_count + dimension_prior_strengths.prior_strength)
        end as shrunk_completion_rate,
        segments.task_count >= {{ var('segment_min_tasks') }} as is_tested

    from segments

    left join q_values
        on segments.slice_key = q_values.slice_key

    left join dimension_prior_strengths
        on segments.slice_dimensions = dimension_prior_strengths.slice_dimensions

),

statused as (

    select
        slice_key,
        slice_dimensions,
        slice_values,
        {%- for dimension in dimensions %}
        {{ dimension.column }},
        {%- endfor %}
        slice_level,
        case
            when
                is_tested
                and completion_rate_ci_high < alert_threshold_rate
                and q_value <= {{ var('segment_fdr') }}
                then 'alert'
            when shrunk_completion_rate < alert_threshold_rate then 'watch'
            else 'ok'
        end as status,
        task_count,
        completed_count,
        failed_count,
        excluded_count,
        completion_rate,
        completion_rate_ci_low,
        completion_rate_ci_high,
        overall_completion_rate,
        alert_threshold_rate,
        gap_pp,
        rest_completion_rate,
        100 * (rest_completion_rate - completion_rate) as gap_to_rest_pp,
        failure_share,
        traffic_share,
        lift,
        attributable_share,
        p_value,
        q_value,
        shrunk_completion_rate,
        is_tested,
        completion_rate < alert_threshold_rate as is_naive_gap

    from scored

),

-- A combination that holds only tasks of another alerting slice and is not
-- confidently worse than it says nothing new: it is reported under that
-- slice, not as its own alert. "Holds only tasks of" is read from the slice
-- counts: every predicate of the container is one of the combination's, or
-- implied by one of them (a implies q when the pair a AND q has as many tasks
-- as a alone, e.g. a customer implies its tier). The parents with one
-- predicate fewer are the plain case.
slice_predicates as (

    -- One row per (alerting slice or pair of segments, predicate).
    {%- for dimension in dimensions %}
    select
        slice_key,
        slice_level,
        status,
        task_count,
        '{{ dimension.name }}' as predicate_dimension,
        {{ dimension.column }} as predicate_value

    from statused
    where {{ dimension.column }} is not null and (status = 'alert' or slice_level <= 2)
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

implications as (

    -- a implies q: every counted task with a also has q.
    select distinct
        antecedent.predicate_dimension as antecedent_dimension,
        antecedent.predicate_value as antecedent_value,
        consequent.predicate_dimension as consequent_dimension,
        consequent.predicate_value as consequent_value

    from slice_predicates as antecedent

    inner join slice_predicates as consequent
        on
            antecedent.slice_key = consequent.slice_key
            and antecedent.predicate_dimension <> consequent.predicate_dimension

    inner join slice_predicates as antecedent_alone
        on
            antecedent_alone.slice_level = 1
            and antecedent.predicate_dimension = antecedent_alone.predicate_dimension
            and antecedent.predicate_value = antecedent_alone.predicate_value

    where antecedent.slice_level = 2 and antecedent.task_count = antecedent_alone.task_count

),

covered_container_predicates as (

    -- For an alerting combination and another alerting slice: which of the
    -- other slice's predicates the combination has or implies.
    select distinct
        combination.slice_key,
        container.slice_key as container_slice_key,
        container.predicate_dimension

    from slice_predicates as combination

    inner join slice_predicates as container
        on
            combination.slice_key <> container.slice_key
            and container.status = 'alert'

    left join implications
        on
            combination.predicate_dimension = implications.antecedent_dimension
            and combination.predicate_value = implications.antecedent_value
            and container.predicate_dimension = implications.consequent_dimension
            and container.predicate_value = implications.consequent_value

    where
        combination.status = 'alert'
        and combination.slice_level >= 2
        and (
            (
                combination.predicate_dimension = container.predicate_dimension
                and combination.predicate_value = container.predicate_value
            )
            or implications.antecedent_dimension is not null
        )

),

containments as (

    select
        covered_container_predicates.slice_key,
        covered_container_predicates.container_slice_key

    from covered_container_predicates

    inner join statused as container
        on covered_container_predicates.container_slice_key = container.slice_key

    group by
        covered_container_predicates.slice_key,
        covered_container_predicates.container_slice_key,
        container.slice_level

    having count(*) = container.slice_level

),

alerting_parents as (

    -- Two slices holding the same tasks: the one with fewer predicates (then
    -- the smaller key) stands, the other is redundant.
    select
        child.slice_key,
        container.slice_key as parent_slice_key,
        container.completion_rate as parent_completion_rate

    from containments

    inner join statused as child
        on containments.slice_key = child.slice_key

    inner join statused as container
        on containments.container_slice_key = container.slice_key

    left join containments as reverse_containment
        on
            containments.slice_key = reverse_containment.container_slice_key
            and containments.container_slice_key = reverse_containment.slice_key

    where
        child.completion_rate_ci_high >= container.completion_rate - {{ var('slice_redundancy_margin') }}
        and (
            reverse_containment.slice_key is null
            or container.slice_level < child.slice_level
            or (container.slice_level = child.slice_level and container.slice_key < child.slice_key)
        )

),

alerting_parents_ranked as (

    select
        slice_key,
        parent_slice_key,
        row_number() over (
            partition by slice_key
            order by parent_completion_rate, parent_slice_key
        ) as parent_rank

    from alerting_parents

),

redundant_slices as (

    -- Named under the worst such parent.
    select
        slice_key,
        parent_slice_key as redundant_under_slice_key

    from alerting_parents_ranked
    where parent_rank = 1

),

final as (

    select
        statused.*,
        redundant_slices.redundant_under_slice_key,
        redundant_slices.slice_key is not null as is_redundant

    from statused

    left join redundant_slices
        on statused.slice_key = redundant_slices.slice_key

)

select * from final
