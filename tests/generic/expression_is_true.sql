{#
    Fails on every row of `model` where the boolean SQL `expression` is not
    true (false or null). Our own, since dbt_utils is not installable here.
#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
