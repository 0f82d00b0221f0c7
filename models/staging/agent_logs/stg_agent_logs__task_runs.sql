{#
    One row per raw record: every non-blank JSONL line and every Parquet row
    of task_runs* in raw_path, parsed against the raw contract. Nothing is
    dropped here; fields of the wrong kind come out null and are named in
    `invalid_type_field`, so the validation model can reject the record with
    a reason.

    Incremental, unlike the other staging models: reading and parsing the
    raw JSON is most of a build's work, so each file is read once. A build
    reads the files that are new or were rewritten since they were loaded
    (macros/raw_files_to_load.sql) and replaces those files' rows; every
    model downstream recomputes from all loaded records, so late-arriving
    and duplicate records are handled as in a full refresh. A warehouse
    loaded by a version with other columns fails the build (a
    --full-refresh reloads it) rather than mixing the two.
#}
{{
    config(
        materialized='incremental',
        unique_key='source_file',
        incremental_strategy=agent_segments.replace_by_key_incremental_strategy(),
        on_schema_change='fail',
        partition_by=agent_segments.by_file_partitions(),
        pre_hook="{{ agent_segments.insertion_order_not_kept() }}",
        post_hook="{{ agent_segments.insertion_order_restored() }}"
    )
}}
{%- set jsonl_source = source('agent_logs', 'task_runs_jsonl') -%}
{%- set parquet_source = source('agent_logs', 'task_runs_parquet') -%}
{%- set jsonl_files = agent_segments.raw_file_versions('task_runs*.jsonl') -%}
{%- set parquet_files = agent_segments.raw_file_versions('task_runs*.parquet') -%}
{%- set has_jsonl = jsonl_files | length > 0 -%}
{%- set has_parquet = parquet_files | length > 0 -%}
{{ agent_segments.raw_path_must_hold_task_runs(has_jsonl, has_parquet) }}
{%- set files_to_load = agent_segments.raw_files_to_load(jsonl_files + parquet_files) -%}
{%- set source_files_to_load = files_to_load | map(attribute='source_file') | list -%}
{%- set jsonl_files_to_load = jsonl_files | selectattr('source_file', 'in', source_files_to_load) | list -%}
{%- set parquet_files_to_load = parquet_files | map(attribute='source_file') | select('in', source_files_to_load) | list -%}
{%- set contract_fields = agent_segments.task_run_contract_fields() -%}
{%- set field_paths = [] -%}
{%- for field in contract_fields -%}
    {%- do field_paths.append("'$.\"" ~ field.name ~ "\"'") -%}
{%- endfor -%}

with

{% if has_jsonl %}
jsonl_records as (

    -- Every line, blank ones too, numbered in file order: record_number is
    -- the line number a person opens the file at.
    select
        source_file,
        record_number,
        raw_record

    from {{ agent_segments.raw_jsonl_lines(jsonl_source, jsonl_files_to_load) }}

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

    from {{ agent_segments.raw_parquet_records(parquet_source, parquet_files_to_load) }}

),

{% endif %}
file_versions as (

    -- The version each file is read at, so the next build can tell which
    -- files changed (macros/raw_file_versions.sql).
    {%- for file in files_to_load %}
    select
        '{{ dbt.escape_single_quotes(file.source_file) }}' as source_file,
        '{{ dbt.escape_single_quotes(file.file_version) }}' as source_file_version
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_string() }}) as source_file_version
    where false
    {%- endfor %}

),

raw_records as (

    {% if has_jsonl %}
    select
        source_file,
        record_number,
        raw_record

    from jsonl_records
    -- Blank lines separate nothing in JSON Lines; they are not records.
    where not {{ agent_segments.is_blank('raw_record') }}
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

records_minified as (

    -- Each record parsed once, leniently: the strict check, the object
    -- test and the content hash below read this text.
    select
        source_file,
        record_number,
        raw_record,
        {{ agent_segments.json_minified_or_null('raw_record') }} as record_minified

    from raw_records

),

records_checked as (

    select
        source_file,
        record_number,
        raw_record,
        record_minified,
        {{ agent_segments.json_is_valid('raw_record', 'record_minified') }} as is_valid_json

    from records_minified

),

records_as_objects as (

    select
        source_file,
        record_number,
        raw_record,
        record_minified,
        is_valid_json,
        -- Only objects are read further; the json functions never see
        -- malformed text.
        case
            when
                is_valid_json
                and {{ agent_segments.json_minified_is_object('record_minified') }}
                then raw_record
        end as record_json

    from records_checked

),

fields_located as (

    -- The record is parsed for all contract fields at once where the engine
    -- allows it (macros/json_field_values.sql).
    select
        *,
        {{ agent_segments.json_fields_parsed('record_json', field_paths) }} as field_values

    from records_as_objects

),

fields_extracted as (

    select
        source_file,
        record_number,
        raw_record,
        is_valid_json,
        record_json is not null as is_json_object,
        {%- for field in contract_fields %}
        {%- set path = field_paths[loop.index0] %}
        {%- set field_kind = agent_segments.json_field_kind('field_values', 'record_json', loop.index, path) %}
        {%- set field_text = agent_segments.json_field_text('field_values', 'record_json', loop.index, path) %}
        {{ field_kind }} as {{ field.name }}_kind,
        {{ field_text }} as {{ field.name }}_value,
        {%- if field.kind == 'object' %}
        -- A string holding a JSON object counts as the object (Parquet
        -- writers often store nested records as text). Nested CASEs: only
        -- strings are checked for JSON inside.
        case
            when {{ field_kind }} = 'string'
                then case
                    when {{ agent_segments.json_is_valid(field_text) }} then {{ field_text }}
                end
        end as {{ field.name }}_embedded_json,
        {%- endif %}
        {%- endfor %}
        case when record_json is not null then {{ agent_segments.content_key('record_minified') }} end as record_content_key

    from fields_located

),

typed as (

    select
        source_file,
        record_number,
        raw_record,
        is_valid_json,
        is_json_object,
        record_content_key,
        {%- for field in contract_fields %}
        {%- if field.kind == 'text' %}
        case
            when {{ field.name }}_kind in ('string', 'integer')
                then {{ agent_segments.trim_whitespace(field.name ~ '_value') }}
        end as {{ field.name }},
        {%- elif field.kind == 'integer' %}
        case
            when {{ field.name }}_kind = 'integer' then try_cast({{ field.name }}_value as {{ dbt.type_bigint() }})
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
            when {{ field.name }}_kind = 'object' then {{ agent_segments.json_field_minified(field.name ~ '_value') }}
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
            -- An integer beyond 64 bits is the wrong type, not a crash.
            when
                {{ field.name }}_kind not in ('integer', 'null')
                or ({{ field.name }}_kind = 'integer' and try_cast({{ field.name }}_value as {{ dbt.type_bigint() }}) is null)
                then '{{ field.name }}'
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
        -- What later models need of the input and the request, derived once
        -- per record so neither text is stored (inputs are most of a
        -- record's bytes): the input's length as minified JSON, its keys
        -- that carry a value, and the asks in the request.
        cast({{ dbt.length('input_json') }} as {{ dbt.type_bigint() }}) as input_length_chars,
        {{ agent_segments.json_filled_keys('input_json') }} as input_filled_fields,
        {{ agent_segments.request_part_count('request_text') }} as request_part_count,
        attributes_json,
        record_content_key,
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
        {{ agent_segments.parse_timestamp_utc('finished_at_text') }} as finished_at,
        -- The text is kept only when nothing could be parsed from it (not a
        -- JSON object): for the rest the fields say it all, and storing
        -- every line again would be a quarter of this model's work.
        case when not is_json_object then raw_record end as raw_record

    from typed

),

versioned as (

    select
        renamed.*,
        file_versions.source_file_version

    from renamed

    left join file_versions
        on renamed.source_file = file_versions.source_file

)

select * from versioned
