{#
    Parses ISO-8601 text (a date, or a date and time with an optional
    offset) into a UTC timestamp without zone; text without an offset is
    taken as UTC (the session zone is UTC, see profiles.yml). Null when the
    text is not ISO-8601: the caller turns that into a rejection, never a
    guess. Words an engine would take ('epoch', 'infinity') are not ISO-8601.
#}
{% macro parse_timestamp_utc(text_expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(text_expression) -%}
    case
        when regexp_matches(
            {{ text_expression }},
            '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$'
        )
            then cast(timezone('UTC', try_cast({{ text_expression }} as timestamptz)) as timestamp)
    end
{%- endmacro %}

{#
    Spark: the same ISO-8601 gate, then Spark's own cast (the session zone is
    UTC, see profiles.yml). Spark would also take 'now', 'today' or '2024'.
#}
{% macro spark__parse_timestamp_utc(text_expression) -%}
    case
        when
            {{ text_expression }} rlike
            '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?[ \\t\\n\\r\\f]*(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
            then cast({{ text_expression }} as timestamp)
    end
{%- endmacro %}
