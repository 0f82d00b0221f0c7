{#
    The SHA-256 digest of a text expression as 64 lower-case hex digits:
    sha256(x) on DuckDB, sha2(x, 256) on Spark. Null stays null.
#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'agent_segments')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro spark__sha256_hex(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
