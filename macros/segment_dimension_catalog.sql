{#
    Built-in segment dimensions: the name users configure -> the SQL over
    fct_task_runs giving the segment value (a column, or for customers the
    name when show_customer_names put one there, else the pseudonym). Who
    triggered the task first, then what they gave it.
#}
{% macro segment_dimension_catalog() -%}
    {{ return({
        'customer': 'coalesce(customer_name, customer_id)',
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
