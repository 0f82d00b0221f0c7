{#
    One row per customer in the optional customers.csv of raw_path. Without
    the file the model is empty and every task's tier is '(missing)'.
#}
{%- set customers_source = source('agent_logs', 'customers') -%}
{%- set has_customers = agent_segments.raw_files_exist('customers.csv') -%}

with

{% if has_customers %}
customers as (

    select * from {{ customers_source }}

),
{% endif %}

renamed as (

    {% if has_customers %}
    select
        {{ agent_segments.trim_whitespace('cast(customer_id as ' ~ dbt.type_string() ~ ')') }} as customer_id,
        {{ agent_segments.trim_whitespace('cast(customer_name as ' ~ dbt.type_string() ~ ')') }} as customer_name,
        lower({{ agent_segments.trim_whitespace('cast(tier as ' ~ dbt.type_string() ~ ')') }}) as customer_tier

    from customers
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as customer_name,
        cast(null as {{ dbt.type_string() }}) as customer_tier

    where false
    {% endif %}

)

select * from renamed
