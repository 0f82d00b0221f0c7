{#
    One row per user in the optional users.csv of raw_path. Only the columns
    the analysis needs are read: emails and names stay in the raw file.
#}
{%- set users_source = source('agent_logs', 'users') -%}
{%- set has_users = agent_segments.raw_files_exist('users.csv') -%}

with

{% if has_users %}
users as (

    select * from {{ users_source }}

),
{% endif %}

renamed as (

    {% if has_users %}
    select
        {{ agent_segments.trim_whitespace('cast(user_id as ' ~ dbt.type_string() ~ ')') }} as user_id,
        {{ agent_segments.trim_whitespace('cast(team as ' ~ dbt.type_string() ~ ')') }} as team,
        {{ agent_segments.trim_whitespace('cast(role as ' ~ dbt.type_string() ~ ')') }} as user_role

    from users
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as user_role

    where false
    {% endif %}

)

select * from renamed
