{#
    One row per raw record, with the rejection rule it breaks (if any).
    Rules apply in the order of docs/definitions.md, section 2; the first
    that applies names the rejection, so every record has at most one reason.

    A table: both the accepted (fct_task_runs) and the rejected
    (rejected_task_runs) sides read it. A record's verdict depends on the
    record, on every other delivery of its task_run_id (the latest wins), on
    the rules (the status mapping seed, var max_clock_skew_hours, this file)
    and, for the future-timestamp rule, on the build's clock. So on DuckDB an
    incremental build (issue #4) validates again only:
      - the records of raw files that are new or were rewritten (their
        source_file_version differs from the stored one), and every record
        sharing a task_run_id with those records, before or after the change;
      - the records rejected as timestamp_in_future, and every record sharing
        their task_run_id: the clock has moved on;
      - every record, when the rules' fingerprint differs from the stored one.
    It replaces those records' rows and deletes the rows of records a
    rewritten file no longer holds. Everything else stands as validated,
    which is what a full build would decide again. Elsewhere a table rebuilt
    at every build (synced_table_materialization).
#}
{{ agent_segments.synced_table_config(['source_file', 'record_number'], present_column='source_file_version') }}
{#- The rules besides the status mapping, whose rows are fingerprinted in SQL below. -#}
{%- set validation_rules = 'max_clock_skew_hours=' ~ var('max_clock_skew_hours')
    ~ '|' ~ model.get('checksum', {}).get('checksum', '') -%}

with

task_runs as {{ 'not materialized' if is_incremental() else '' }} (

    -- Read three times by an incremental build, each read needing other
    -- columns of other records: materializing it would copy every record.
    select * from {{ ref('stg_agent_logs__task_runs') }}

),

task_status_outcomes as (

    select * from {{ ref('task_status_outcomes') }}

),

validation_rules as (

    select
        '{{ validation_rules }}|' || cast(
            coalesce(sum({{ agent_segments.summable_hash(['raw_status', 'outcome']) }}), 0)
            as {{ dbt.type_string() }}
        ) as validation_rules_fingerprint

    from task_status_outcomes

),

{% if is_incremental() -%}
stored_records as not materialized (

    -- Read four times for different columns: materializing it copied every
    -- stored record's six columns (0.9 s at 10M records).

    select
        source_file,
        record_number,
        {{ agent_segments.stored_column_or_null('source_file_version', dbt.type_string()) }},
        task_run_id,
        rejection_reason,
        {{ agent_segments.stored_column_or_null('validation_rules_fingerprint', dbt.type_string()) }}

    from {{ this }}

),

rules_changed as (

    select count(*) > 0 as rules_changed

    from (select distinct validation_rules_fingerprint from stored_records) as stored_rules

    cross join validation_rules

    where stored_rules.validation_rules_fingerprint is distinct from validation_rules.validation_rules_fingerprint

),

current_file_versions as (

    select distinct
        source_file,
        source_file_version
    from task_runs

),

stored_file_versions as (

    select distinct
        source_file,
        source_file_version
    from stored_records

),

changed_files as (

    -- New and rewritten files (a stored file is never gone from staging:
    -- raw_files_to_load stops the build).
    {{ agent_segments.fingerprints_that_differ(
        'current_file_versions', 'stored_file_versions', 'source_file', 'source_file_version'
    ) }}

),

current_records_of_changed_files as (

    select
        task_runs.source_file,
        task_runs.record_number,
        task_runs.task_run_id

    from task_runs

    inner join changed_files
        on task_runs.source_file = changed_files.source_file

),

stored_records_of_changed_files as (

    select
        stored_records.source_file,
        stored_records.record_number,
        stored_records.task_run_id

    from stored_records

    inner join changed_files
        on stored_records.source_file = changed_files.source_file

),

task_run_ids_to_rank_again as (

    select task_run_id from current_records_of_changed_files
    union
    select task_run_id from stored_records_of_changed_files
    union
    select task_run_id from stored_records
    where rejection_reason = 'timestamp_in_future'

),

records_gone as (

    -- Lines a rewritten file no longer holds.
    select
        stored_records_of_changed_files.source_file,
        stored_records_of_changed_files.record_number

    from stored_records_of_changed_files

    left join current_records_of_changed_files
        on
            stored_records_of_changed_files.source_file = current_records_of_changed_files.source_file
            and stored_records_of_changed_files.record_number = current_records_of_changed_files.record_number

    where current_records_of_changed_files.source_file is null

),

record_keys_to_validate as (

    -- A record rejected as timestamp_in_future has a task_run_id (it passed
    -- the required-field rule), so its task_run_id brings it back.
    select
        task_runs.source_file,
        task_runs.record_number

    from task_runs

    where
        (select rules_changed from rules_changed)
        or task_runs.source_file in (select changed_files.source_file from changed_files)
        or task_runs.task_run_id in (select task_run_ids_to_rank_again.task_run_id from task_run_ids_to_rank_again)

),

records_to_validate as (

    -- The keys first, then the records: filtering the records themselves
    -- read every column of every record (2.9 s at 10M records, with none to
    -- validate); an empty set of keys reads none.
    select task_runs.*

    from task_runs

    inner join record_keys_to_validate
        on
            task_runs.source_file = record_keys_to_validate.source_file
            and task_runs.record_number = record_keys_to_validate.record_number

),

{% endif -%}
build_clock as (

    -- Start times beyond this are clock or parsing errors, not tasks.
    select
        {{ dbt.dateadd(
            'hour',
            var('max_clock_skew_hours'),
            'cast(' ~ dbt.current_timestamp() ~ ' as timestamp)'
        ) }} as latest_plausible_started_at

),

task_runs_with_outcome as (

    select
        task_runs.*,
        task_status_outcomes.outcome,
        build_clock.latest_plausible_started_at,
        validation_rules.validation_rules_fingerprint

    from {{ 'records_to_validate' if is_incremental() else 'task_runs' }} as task_runs

    cross join build_clock

    cross join validation_rules

    left join task_status_outcomes
        on task_runs.status_key = task_status_outcomes.raw_status

),

record_rules_checked as (

    select
        *,
        case
            when not is_valid_json then 'malformed_json'
            when not is_json_object then 'record_not_an_object'
            when invalid_type_field is not null then 'invalid_type'
            when
                task_run_id is null
                or task_type is null
                or started_at_text is null
                or raw_status is null
                then 'missing_required_field'
            when
                started_at is null
                or (finished_at_text is not null and finished_at is null)
                then 'unparseable_timestamp'
            when started_at > latest_plausible_started_at then 'timestamp_in_future'
            when outcome is null then 'unknown_status'
            when not is_input_object then 'input_not_an_object'
            when not is_attributes_object then 'attributes_not_an_object'
        end as record_rejection_reason,
        case
            when not is_valid_json or not is_json_object then null
            when invalid_type_field is not null then invalid_type_field
            when task_run_id is null then 'task_run_id'
            when task_type is null then 'task_type'
            when started_at_text is null then 'started_at'
            when raw_status is null then 'status'
            when started_at is null then 'started_at: ' || started_at_text
            when finished_at_text is not null and finished_at is null then 'finished_at: ' || finished_at_text
            when started_at > latest_plausible_started_at then 'started_at: ' || started_at_text
            when outcome is null then raw_status
            when not is_input_object then 'input'
            when not is_attributes_object then 'attributes'
        end as record_rejection_detail

    from task_runs_with_outcome

),

repeated_task_run_ids as (

    -- Most task_run_ids are delivered once and need no ranking: an
    -- aggregate finds the few that are not, so only their records are
    -- sorted below, never every record.
    select task_run_id
    from record_rules_checked
    where record_rejection_reason is null
    group by task_run_id
    having count(*) > 1

),

repeated_deliveries as (

    select
        record_rules_checked.source_file,
        record_rules_checked.record_number,
        record_rules_checked.task_run_id,
        record_rules_checked.record_content_key

    from record_rules_checked

    inner join repeated_task_run_ids
        on record_rules_checked.task_run_id = repeated_task_run_ids.task_run_id

    where record_rules_checked.record_rejection_reason is null

),

delivery_ranks as (

    -- Among records that pass every other rule, the latest delivery of a
    -- task_run_id wins: later files and later lines supersede earlier ones.
    -- An earlier copy is a duplicate delivery when a later copy has the same
    -- content, and a conflicting duplicate when none has.
    select
        source_file,
        record_number,
        row_number() over latest_first as delivery_rank,
        first_value(source_file || ':' || cast(record_number as {{ dbt.type_string() }})) over latest_first
            as kept_record_location,
        row_number() over (
            partition by task_run_id, record_content_key
            order by source_file desc, record_number desc
        ) as same_content_delivery_rank

    from repeated_deliveries

    window latest_first as (
        partition by task_run_id
        order by source_file desc, record_number desc
    )

),

deliveries_ranked as (

    -- A record that passes every other rule and whose task_run_id came once
    -- is its run's only delivery.
    select
        record_rules_checked.*,
        delivery_ranks.kept_record_location,
        case
            when record_rules_checked.record_rejection_reason is null
                then coalesce(delivery_ranks.delivery_rank, 1)
        end as delivery_rank,
        coalesce(delivery_ranks.same_content_delivery_rank, 1) as same_content_delivery_rank

    from record_rules_checked

    left join delivery_ranks
        on
            record_rules_checked.source_file = delivery_ranks.source_file
            and record_rules_checked.record_number = delivery_ranks.record_number

),

validated as (

    select
        source_file,
        record_number,
        task_run_id,
        task_id,
        user_id,
        customer_id,
        agent_name,
        agent_version,
        task_type,
        team,
        raw_status,
        outcome,
        error_type,
        input_length_chars,
        input_filled_fields,
        request_part_count,
        attributes_json,
        raw_record,
        attempt,
        latency_ms,
        cost_usd,
        input_tokens,
        output_tokens,
        started_at,
        finished_at,
        source_file_version,
        validation_rules_fingerprint,
        case
            when record_rejection_reason is not null then record_rejection_reason
            when same_content_delivery_rank > 1 then 'duplicate_delivery'
            when delivery_rank > 1 then 'conflicting_duplicate'
        end as rejection_reason,
        case
            when record_rejection_reason is not null then record_rejection_detail
            when delivery_rank > 1 then 'task_run_id ' || task_run_id || ' kept at ' || kept_record_location
        end as rejection_detail,
        record_rejection_reason is null and delivery_rank = 1 as is_accepted,
        {{ agent_segments.build_started_at() }} as row_built_at

    from deliveries_ranked

)

select * from validated
{%- if is_incremental() %}

-- Gone records are written with only their key (synced_rows_deleted
-- removes them in the same transaction).
union all by name

select
    source_file,
    record_number

from records_gone
{%- endif %}
