{#
    64-bit hashes of several values that do not change from build to build:
    DuckDB's hash, Spark's xxhash64 (seed 42). Like content_key, DuckDB's may
    change between DuckDB versions; a --full-refresh after upgrading DuckDB
    keeps earlier and later builds comparable.

    summable_hash: as a number that sums without overflow, for fingerprints
    of a group of rows (int_slice_counts_daily's days).
    bigint_hash: as a bigint, for an identifier that must not shift when
    other values appear (int_segments_numbered's segment numbers).
#}
{% macro summable_hash(expressions) -%}
    {{ return(adapter.dispatch('summable_hash', 'agent_segments')(expressions)) }}
{%- endmacro %}

{% macro default__summable_hash(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) as decimal(20, 0))
{%- endmacro %}

{% macro spark__summable_hash(expressions) -%}
    cast(xxhash64({{ expressions | join(', ') }}) as decimal(20, 0))
{%- endmacro %}

{% macro bigint_hash(expressions) -%}
    {{ return(adapter.dispatch('bigint_hash', 'agent_segments')(expressions)) }}
{%- endmacro %}

{#- DuckDB's hash is an unsigned 64-bit integer: one bit less fits a bigint. -#}
{% macro default__bigint_hash(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) >> 1 as bigint)
{%- endmacro %}

{% macro spark__bigint_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}
