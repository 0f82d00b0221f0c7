{#
    The engine's 64-bit hash of several values, stable from build to build:
    DuckDB's hash (unsigned), Spark's xxhash64 (signed, seed 42). DuckDB's may
    change between DuckDB versions; a --full-refresh after upgrading DuckDB
    keeps earlier and later builds comparable. The casts below are what the
    models use:

    content_key (content_key.sql): as text, to tell deliveries apart.
    summable_hash: as a number that sums without overflow, for fingerprints
    of a group of rows (a task's runs, the lookups' rows) and the day
    fingerprints built on them.
    bigint_hash: as a bigint, for an identifier that must not shift when
    other values appear (int_segments_numbered's segment numbers).
#}
{% macro hash_64(expressions) -%}
    {{ return(adapter.dispatch('hash_64', 'agent_segments')(expressions)) }}
{%- endmacro %}

{% macro default__hash_64(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__hash_64(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}

{% macro summable_hash(expressions) -%}
    cast({{ agent_segments.hash_64(expressions) }} as decimal(20, 0))
{%- endmacro %}

{#- Unsigned on DuckDB: reduced below 2^63 - 1 so that it fits a bigint on both engines. -#}
{% macro bigint_hash(expressions) -%}
    cast({{ agent_segments.hash_64(expressions) }} % 9223372036854775807 as bigint)
{%- endmacro %}

{#-
    A whole row of a relation alias as one value, to hash every column at
    once: the alias itself on DuckDB, a struct of its columns on Spark.
-#}
{% macro whole_row(alias) -%}
    {{ return(adapter.dispatch('whole_row', 'agent_segments')(alias)) }}
{%- endmacro %}

{% macro default__whole_row(alias) -%}
    {{ alias }}
{%- endmacro %}

{% macro spark__whole_row(alias) -%}
    struct({{ alias }}.*)
{%- endmacro %}

{#-
    A segment's number: the bigint_hash of its dimension's name and its
    value. int_segments_numbered lists the numbers (tested unique);
    int_tasks_ordered_in_time computes each task's from its values, with no
    join.
-#}
{% macro segment_number(dimension_name, segment_value) -%}
    {{ agent_segments.bigint_hash([dimension_name, segment_value]) }}
{%- endmacro %}
