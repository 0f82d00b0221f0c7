{#
    One row per delivered user or customer id that the marts show: its
    pseudonym, and for customers the name in customers.csv. For operators
    who may re-identify a segment (docs/privacy.md): schema restricted, never
    exported to Parquet; BI tools and alerts read only schema marts.
#}

with

tasks as (

    select * from {{ ref('int_tasks_reduced_to_deciding_run') }}

),

customers as (

    select * from {{ ref('stg_agent_logs__customers') }}

),

delivered_ids as (

    select distinct
        'customer' as id_kind,
        customer_id as delivered_id

    from tasks
    where customer_id is not null

    union all

    select distinct
        'user' as id_kind,
        user_id as delivered_id

    from tasks
    where user_id is not null

),

customer_names as (

    select
        customer_id,
        max(customer_name) as customer_name

    from customers
    where customer_id is not null
    group by customer_id

),

pseudonyms as (

    select
        case
            when delivered_ids.id_kind = 'customer'
                then {{ agent_segments.pseudonymous_id('delivered_ids.delivered_id', 'cust') }}
            else {{ agent_segments.pseudonymous_id('delivered_ids.delivered_id', 'user') }}
        end as pseudonym,
        delivered_ids.id_kind,
        delivered_ids.delivered_id,
        customer_names.customer_name

    from delivered_ids

    left join customer_names
        on
            delivered_ids.id_kind = 'customer'
            and delivered_ids.delivered_id = customer_names.customer_id

)

select * from pseudonyms
