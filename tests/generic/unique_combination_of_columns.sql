{#
    Fails with one row per combination of `columns` that occurs more than
    once in `model`: the grain test for models keyed by several columns.

    built_at_column (optional): a column holding when the build that wrote
    the row started (row_built_at). Where a pass of this test is on record
    (DuckDB), only the keys of rows written since then are checked, against
    every row holding them (macros/rows_built_since_last_pass.sql).
    rows_built_in (optional, with built_at_column): the table holding that
    column, for a view that shows its rows one for one (fct_task_runs): the
    keys are those of the table's rows written since the pass.
#}
{% test unique_combination_of_columns(model, columns, built_at_column=none, rows_built_in=none) %}

{% set column_list = columns | join(', ') %}
{% if built_at_column and model.identifier is not defined %}
    {# A `where` config makes the model a subquery, and the scope would miss rows outside it. #}
    {{ exceptions.raise_compiler_error(
        'unique_combination_of_columns: built_at_column cannot be used with a where config (' ~ model ~ ')'
    ) }}
{% endif %}
{% set rows_built_in = rows_built_in or model %}
{% set rows_built_since_last_pass = agent_segments.rows_built_since_last_pass(
    model, 'unique_combination_of_columns', columns, built_at_column, rows_built_in
) if built_at_column else none %}

select
    {{ column_list }},
    count(*) as row_count

from {{ model }} as tested
{% if rows_built_since_last_pass %}
-- `is not distinct from`: a key with a null part (a day-end row's
-- task_sequence) is a key like any other, as in the group by below.
where exists (
    select 1 from {{ rows_built_in }} as built
    where
        {{ rows_built_since_last_pass }}
        {% for column in columns %}
        and built.{{ column }} is not distinct from tested.{{ column }}
        {% endfor %}
)
{% endif %}
group by {{ column_list }}
having count(*) > 1

{% endtest %}
