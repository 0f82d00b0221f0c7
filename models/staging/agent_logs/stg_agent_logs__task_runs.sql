{#
    One row per raw record: every non-blank JSONL line and every Parquet row
    of task_runs* in raw_path, parsed against the raw contract. Nothing is
    dropped here; fields of the wrong kind come out null and are named in
    `invalid_type_field`, so the validation model can reject the record with
    a reason.
#}
{%- set jsonl_source = source('agent_logs', 'task_runs_jsonl') -%}
{%- set parquet_source = source('agent_logs', 'task_runs_parquet') -%}
{%- set has_jsonl = agent_segments.raw_files_exist('task_runs*.jsonl') -%}
{%- set has_parquet = agent_segments.raw_files_exist('task_runs*.parquet') -%}
{{ agent_segments.raw_path_must_hold_task_runs(has_jsonl, has_parquet) }}
{%- set contract_fields = agent_segments.task_run_contract_fields() -%}

with

{% if has_jsonl %}
jsonl_records as (

    -- Every line, blank ones too, numbered in file order: record_number is
    -- the line number a person opens the file at.
    select
        source_file,
        record_number,
        raw_record

    from {{ agent_segments.raw_jsonl_lines(jsonl_source) }}

),

{% endif %}
{% if has_parquet %}
parquet_records as (

    -- A Parquet row becomes the same JSON record a JSONL line holds, so both
    -- deliveries pass through one set of rules.
    select
        source_file,
        record_number,
        raw_record

    from {{ agent_segments.raw_parquet_records(parquet_source) }}

),

{% endif %}
raw_records as (

    {% if has_jsonl %}
    select
        source_file,
        record_number,
        raw_record

    from jsonl_records
    -- Blank lines separate nothing in JSON Lines; they are not records.
    where {{ agent_segments.trim_whitespace('raw_record') }} is not null
    {% endif %}
    {% if has_jsonl and has_parquet %}
    union all
    {% endif %}
    {% if has_parquet %}
    select
        source_file,
        record_number,
        raw_record

    from parquet_records
    {% endif %}

),

records_checked as (

    select
        source_file,
        record_number,
        raw_record,
        {{ agent_segments.json_is_valid('raw_record') }} as is_valid_json

    from raw_records

),

records_as_objects as (

    select
        source_file,
        record_number,
        raw_record,
        is_valid_json,
        -- Only objects are read further; the json functions never see
        -- malformed text.
        case
            when
                is_valid_json
                and {{ agent_segments.json_kind('raw_record', "'$'") }} = 'object'
                then raw_record
        end as record_json

    from records_checked

),

fields_extracted as (

    select
        source_file,
        record_number,
        raw_record,
        is_valid_json,
        record_json is not null as is_json_object,
        {%- for field in contract_fields %}
        {%- set path = "'$.\"" ~ field.name ~ "\"'" %}
        {{ agent_segments.json_kind('record_json', path) }} as {{ field.name }}_kind,
        {{ agent_segments.json_text('record_json', path) }} as {{ field.name }}_value,
        {%- if field.kind == 'object' %}
        -- A string holding a JSON object counts as the object (Parquet
        -- writers often store nested records as text).
        case
            when
                {{ agent_segments.json_kind('record_json', path) }} = 'string'
                and {{ agent_segments.json_is_valid(agent_segments.json_text('record_json', path)) }}
                then {{ agent_segments.json_text('record_json', path) }}
        end as {{ field.name }}_embedded_json,
        {%- endif %}
        {%- endfor %}
        case when record_json is not null then {{ dbt.hash(agent_segments.json_minified('record_json')) }} end
            as record_content_hash

    from records_as_objects

),

typed as (

    select
        source_file,
        record_number,
        raw_record,
        is_valid_json,
        is_json_object,
        record_content_hash,
        {%- for field in contract_fields %}
        {%- if field.kind == 'text' %}
        case
            when {{ field.name }}_kind in ('string', 'integer')
                then {{ agent_segments.trim_whitespace(field.name ~ '_value') }}
        end as {{ field.name }},
        {%- elif field.kind == 'integer' %}
        case
            when {{ field.name }}_kind = 'integer' then cast({{ field.name }}_value as {{ dbt.type_bigint() }})
        end as {{ field.name }},
        {%- elif field.kind == 'number' %}
        case
            when {{ field.name }}_kind in ('integer', 'number')
                then cast({{ field.name }}_value as double)
        end as {{ field.name }},
        {%- elif field.kind == 'timestamp' %}
        -- Kept as text when it is a string or an integer; an integer then
        -- fails to parse with its value named, rather than as a type error.
        case
            when {{ field.name }}_kind in ('string', 'integer')
                then {{ agent_segments.trim_whitespace(field.name ~ '_value') }}
        end as {{ field.name }}_text,
        {%- elif field.kind == 'object' %}
        case
            when {{ field.name }}_kind is null or {{ field.name }}_kind = 'null' then '{}'
            when {{ field.name }}_kind = 'object' then {{ agent_segments.json_minified(field.name ~ '_value') }}
            when {{ agent_segments.json_kind(field.name ~ '_embedded_json', "'$'") }} = 'object'
                then {{ agent_segments.json_minified(field.name ~ '_embedded_json') }}
        end as {{ field.name }}_json,
        {%- endif %}
        {%- endfor %}

        -- The first contract field whose JSON kind the contract does not accept.
        case
            {%- for field in contract_fields %}
            {%- if field.kind == 'text' %}
            when {{ field.name }}_kind not in ('string', 'integer', 'null') then '{{ field.name }}'
            {%- elif field.kind == 'integer' %}
            when {{ field.name }}_kind not in ('integer', 'null') then '{{ field.name }}'
            {%- elif field.kind == 'number' %}
            when {{ field.name }}_kind not in ('integer', 'number', 'null') then '{{ field.name }}'
            {%- elif field.kind == 'timestamp' %}
            when {{ field.name }}_kind not in ('string', 'integer', 'null') then '{{ field.name }}'
            {%- endif %}
            {%- endfor %}
        end as invalid_type_field

    from fields_extracted

),

renamed as (

    select
        source_file,
        record_number,
        task_run_id,
        coalesce(task_id, task_run_id) as task_id,
        user_id,
        customer_id,
        agent_name,
        agent_version,
        task_type,
        team,
        status as raw_status,
        lower(status) as status_key,
        error_type,
        request_text,
        input_json,
        attributes_json,
        raw_record,
        record_content_hash,
        invalid_type_field,
        started_at_text,
        finished_at_text,
        attempt,
        latency_ms,
        cost_usd,
        input_tokens,
        output_tokens,
        is_valid_json,
        is_json_object,
        input_json is not null as is_input_object,
        attributes_json is not null as is_attributes_object,
        {{ agent_segments.parse_timestamp_utc('started_at_text') }} as started_at,
        {{ agent_segments.parse_timestamp_utc('finished_at_text') }} as finished_at

    from typed

)

select * from renamed
