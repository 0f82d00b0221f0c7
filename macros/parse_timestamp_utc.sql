{#
    Parses ISO-8601 text into a UTC timestamp without zone; text without an
    offset is taken as UTC (the session zone is UTC, see profiles.yml).
    Null when the text does not parse: the caller turns that into a
    rejection, never a guess.
#}
{% macro parse_timestamp_utc(text_expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(text_expression) -%}
    cast(timezone('UTC', try_cast({{ text_expression }} as timestamptz)) as timestamp)
{%- endmacro %}
