{#
    Fails with one row per combination of `columns` that occurs more than
    once in `model`: the grain test for models keyed by several columns.
#}
{% test unique_combination_of_columns(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as row_count

from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
