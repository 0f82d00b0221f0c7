{#
    True when `text_expression` is strict JSON (RFC 8259). DuckDB's parser
    also takes trailing commas and NaN / Infinity; those records are
    rejected as malformed rather than read with a meaning the producer may
    not have meant. The check looks outside string literals only.
#}
{% macro json_is_valid(text_expression, minified_text=none) -%}
    {{ return(adapter.dispatch('json_is_valid', 'agent_segments')(text_expression, minified_text)) }}
{%- endmacro %}

{#
    DuckDB: one cheap scan for a trailing comma or a NaN / Infinity token
    (DuckDB's parser takes nan, inf, Infinity in any case, signed) where a
    value may start; only text that has one is checked again with its
    string literals blanked out (a request may well say ", inf"). A CASE,
    because DuckDB evaluates both sides of AND / OR in a select list but
    only the branch a row takes in a CASE.
    With `minified_text` (json_minified_or_null of the same text, computed
    once by the caller) the parse is not repeated, and the NaN / Infinity
    scan reads the minified text, where such a token directly follows
    `:`, `[` or `,`: patterns that start with one literal character are
    several times faster than one starting with a class of three.
#}
{% macro duckdb__json_is_valid(text_expression, minified_text=none) -%}
    {%- set lenient_token = "',\\s*[}\\]]|(^|[:\\[,])\\s*[-+]?(?i:nan|inf)'" -%}
    case
        {%- if minified_text is none %}
        when not coalesce(json_valid({{ text_expression }}), false) then false
        when not regexp_matches({{ text_expression }}, {{ lenient_token }}) then true
        {%- else %}
        when {{ minified_text }} is null then false
        when not (
            regexp_matches({{ text_expression }}, ',\s*[}\]]')
            or regexp_matches({{ minified_text }}, ':[-+]?(?i:nan|inf)')
            or regexp_matches({{ minified_text }}, ',[-+]?(?i:nan|inf)')
            or regexp_matches({{ minified_text }}, '\[[-+]?(?i:nan|inf)')
            or regexp_matches({{ minified_text }}, '^[-+]?(?i:nan|inf)')
        ) then true
        {%- endif %}
        else not regexp_matches(
            regexp_replace({{ text_expression }}, '"(\\.|[^"\\])*"', '""', 'g'),
            {{ lenient_token }}
        )
    end
{%- endmacro %}

{#
    Spark (4.0+ / Databricks): strict JSON, as the VARIANT parser reads it.
    Its minified text is not needed.
#}
{% macro spark__json_is_valid(text_expression, minified_text=none) -%}
    coalesce(try_parse_json({{ text_expression }}) is not null, false)
{%- endmacro %}
