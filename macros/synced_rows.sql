{#
    Tables that an incremental build rewrites only where their rows changed
    (issue #4): fct_task_runs and int_tasks_ordered_in_time. The model still
    computes every row at every build, but where computing is cheap and
    writing is not, the build writes only the rows that differ from the
    stored ones (fct_task_runs at 10M runs: 13.7 s as a table, 4.5 s for the
    synced select; the ordering: 3.8 s to compute, ~20 s to write). Not for
    models whose work is the computing: the validation and the deciding run
    cost as much synced as rebuilt at 10M (their wide intermediate steps
    dominate), so they compute only what changed instead, found from their
    inputs (new file versions, a fingerprint of each task's runs), and use
    only this file's config and gone-key deletion (synced_table_config).

    How rows are compared: a 64-bit hash of each whole row, summed per bucket
    (a column that groups rows coarsely, e.g. a day or a file), first bucket by
    bucket, then key by key inside the buckets whose sums differ. New data
    touches few buckets, so the key-by-key comparison stays small. A key whose
    row is gone is deleted. Because the comparison is of the computed rows, the
    table always holds what a full build would: a change of logic, a var, a
    seed or customers.csv rewrites exactly the rows it changes, with no
    --full-refresh. A change of columns (a dimension added to or removed from
    segment_dimensions) makes every row differ: the columns are synced
    (on_schema_change sync_all_columns) and every row rewritten. Two
    different rows with equal hashes, about 1 in 2^64, would leave the
    stored row in place. The hash is of the row by position: the stored
    table keeps the model's column order, so a reordering only rewrites
    every row once. A model with an enforced contract keeps on_schema_change
    fail (dbt allows no other): its columns are fixed anyway.

    DuckDB only. Spark's Parquet tables cannot delete rows, so there such a
    model is a plain table, rebuilt at every build (synced_table_materialization).

    A model declares it in its config and ends with it:

        {{ agent_segments.synced_table_config(['task_id'], present_column='task_run_id') }}
        ...
        {{ agent_segments.synced_rows('final', ['task_id'], bucket='started_date') }}

    `present_column` is a column that is never null in a real row by
    construction (not only by a test: a null there would be taken for a gone
    key): a key whose row is gone is written as a row with only its key set,
    and the post-hook deletes those in the same transaction, so no reader
    ever sees one.
#}
{% macro synced_rows(rows, unique_key, bucket) -%}
    {%- if not is_incremental() %}
select * from {{ rows }}
    {%- else %}
        {%- set key_columns = unique_key | join(', ') -%}
        {%- set same_key = [] -%}
        {%- for column in unique_key -%}
            {%- do same_key.append('synced_current_rows.' ~ column ~ ' = synced_stored_rows.' ~ column) -%}
        {%- endfor %}
, synced_current_rows as materialized (

    -- Narrow and materialized: read twice below, and computing the rows
    -- again for each read would cost more than keeping 10M keys and hashes.
    select
        {{ key_columns }},
        {{ bucket }} as sync_bucket,
        {{ agent_segments.summable_hash([agent_segments.whole_row('computed_row')]) }} as row_hash

    from {{ rows }} as computed_row

),

synced_stored_rows as materialized (

    select
        {{ key_columns }},
        {{ bucket }} as sync_bucket,
        {{ agent_segments.summable_hash([agent_segments.whole_row('stored_row')]) }} as row_hash

    from {{ this }} as stored_row

),

synced_current_buckets as (

    select sync_bucket, sum(row_hash) as bucket_hash
    from synced_current_rows
    group by sync_bucket

),

synced_stored_buckets as (

    select sync_bucket, sum(row_hash) as bucket_hash
    from synced_stored_rows
    group by sync_bucket

),

synced_changed_buckets as (

    {{ agent_segments.fingerprints_that_differ(
        'synced_current_buckets', 'synced_stored_buckets', 'sync_bucket', 'bucket_hash'
    ) }}

),

synced_changed_keys as (

    select
        {%- for column in unique_key %}
        coalesce(synced_current_rows.{{ column }}, synced_stored_rows.{{ column }}) as {{ column }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from (
        select synced_current_rows.*
        from synced_current_rows
        inner join synced_changed_buckets
            on synced_current_rows.sync_bucket is not distinct from synced_changed_buckets.sync_bucket
    ) as synced_current_rows

    full outer join (
        select synced_stored_rows.*
        from synced_stored_rows
        inner join synced_changed_buckets
            on synced_stored_rows.sync_bucket is not distinct from synced_changed_buckets.sync_bucket
    ) as synced_stored_rows
        on {{ same_key | join(' and ') }}

    where synced_current_rows.row_hash is distinct from synced_stored_rows.row_hash

)

-- Rows to write: the changed ones, and the keys whose row is gone (only the
-- key set; synced_rows_deleted removes them). Columns go by name.
select
    computed_row.* exclude ({{ key_columns }}),
    {%- for column in unique_key %}
    synced_changed_keys.{{ column }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}

from synced_changed_keys

left join {{ rows }} as computed_row
    on
    {%- for column in unique_key %}
        synced_changed_keys.{{ column }} = computed_row.{{ column }}
        {%- if not loop.last %} and{% endif %}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#
    The keys whose fingerprint differs between two relations of (key,
    fingerprint), the current one's fingerprint with each (null for a key
    only stored: gone). What synced_rows compares bucket by bucket and
    int_slice_counts_daily day by day.
#}
{% macro fingerprints_that_differ(current_fingerprints, stored_fingerprints, key, fingerprint) -%}
    select
        coalesce(current_fingerprints.{{ key }}, stored_fingerprints.{{ key }}) as {{ key }},
        current_fingerprints.{{ fingerprint }}

    from {{ current_fingerprints }} as current_fingerprints

    full outer join {{ stored_fingerprints }} as stored_fingerprints
        on current_fingerprints.{{ key }} is not distinct from stored_fingerprints.{{ key }}

    where current_fingerprints.{{ fingerprint }} is distinct from stored_fingerprints.{{ fingerprint }}
{%- endmacro %}

{#-
    The config of a synced table, and of any table whose incremental build
    writes the rows of some keys and deletes gone keys the same way:
    incremental on DuckDB, replaced by key, checked for schema changes.
-#}
{% macro synced_table_config(unique_key, present_column, on_schema_change='sync_all_columns') -%}
    {#-
        One key column is passed as a string: dbt's delete+insert then deletes
        with `key in (select key ...)`. Given a list it joins the new rows to
        the stored ones on the key, which for a key shared by many rows (a
        day) multiplies rows by rows: minutes instead of a second at 10M.
    -#}
    {{ config(
        materialized=agent_segments.synced_table_materialization(),
        unique_key=unique_key[0] if unique_key | length == 1 else unique_key,
        incremental_strategy='delete+insert',
        on_schema_change=on_schema_change,
        post_hook="{{ agent_segments.synced_rows_deleted('" ~ present_column ~ "') }}"
    ) }}
{%- endmacro %}

{#- The post-hook that removes the rows synced_rows wrote for keys whose row is gone. -#}
{% macro synced_rows_deleted(present_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ present_column }} is null
    {%- endif -%}
{%- endmacro %}

{#- Incremental (synced) on DuckDB; a plain table elsewhere. -#}
{% macro synced_table_materialization() -%}
    {{ return(adapter.dispatch('synced_table_materialization', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__synced_table_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__synced_table_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}
