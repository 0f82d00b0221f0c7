{#
    A short key of a text that is equal for equal texts: what tells two
    deliveries of a task run apart by content. A 64-bit hash, not a
    cryptographic digest: it only has to tell apart the copies of one
    task_run_id, and a collision (about 1 in 2^64 for a pair) would only
    label an earlier copy duplicate_delivery instead of
    conflicting_duplicate; which copy is kept never depends on it. md5 over
    every record was a tenth of staging's work (10M records of 1.4 KB: ~13 s).
    DuckDB's hash() may change between DuckDB versions: after upgrading
    DuckDB, a --full-refresh keeps earlier and later loads comparable.
#}
{% macro content_key(text_expression) -%}
    {{ return(adapter.dispatch('content_key', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro default__content_key(text_expression) -%}
    {{ dbt.hash(text_expression) }}
{%- endmacro %}

{#- DuckDB and Spark: their 64-bit hash (stable_hash.sql). -#}
{% macro duckdb__content_key(text_expression) -%}
    cast({{ agent_segments.hash_64([text_expression]) }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__content_key(text_expression) -%}
    cast({{ agent_segments.hash_64([text_expression]) }} as {{ dbt.type_string() }})
{%- endmacro %}
