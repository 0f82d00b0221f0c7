{#
    Built-in segment dimensions: the name users configure -> the column of
    fct_task_runs holding the segment value. Who triggered the task first,
    then what they gave it.
#}
{% macro segment_dimension_catalog() -%}
    {{ return({
        'customer': 'customer_id',
        'customer_tier': 'customer_tier',
        'team': 'team',
        'user': 'user_id',
        'task_type': 'task_type',
        'agent_version': 'agent_version',
        'missing_required_fields': 'missing_required_fields_bucket',
        'input_length': 'input_length_bucket',
        'request_complexity': 'request_complexity_bucket',
    }) }}
{%- endmacro %}
