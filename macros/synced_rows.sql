{#
    Synced tables (issue #4): tables whose incremental build writes the rows
    of some keys and deletes the keys that are gone, and leaves every other
    row as stored, which is what a full build would compute again. Each model
    finds its keys from its inputs: the validation by new file versions, the
    deciding run by a fingerprint of each task's runs, the models kept day by
    day by a day fingerprint that follows the one above
    (macros/days_to_recount.sql).

    DuckDB only. Spark's Parquet tables cannot delete rows, so there such a
    model is a plain table, rebuilt at every build (synced_table_materialization).

    `present_column` is a column that is never null in a real row by
    construction (not only by a test: a null there would be taken for a gone
    key): a key whose rows are gone is written as a row with only its key set,
    and the post-hook deletes those in the same transaction, so no reader
    ever sees one.
#}
{#
    The keys whose fingerprint differs between two relations of (key,
    fingerprint), the current one's fingerprint with each (null for a key
    only stored: gone): files, tasks and days.
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
    incremental on DuckDB, replaced by key, its columns synced with the
    model's (a dimension added or removed: the rules fingerprint changes too,
    so every key is rewritten).
-#}
{% macro synced_table_config(unique_key, present_column) -%}
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
        on_schema_change='sync_all_columns',
        post_hook="{{ agent_segments.synced_rows_deleted('" ~ present_column ~ "') }}"
    ) }}
{%- endmacro %}

{#- The post-hook that removes the key-only rows written for keys (tasks, records, days) whose rows are gone. -#}
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
