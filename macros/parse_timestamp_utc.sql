{#
    Parses ISO-8601 text (a date, or a date and time with an optional
    offset) into a UTC timestamp without zone; text without an offset is
    taken as UTC (the session zone is UTC, see profiles.yml). Null when the
    text is not ISO-8601: the caller turns that into a rejection, never a
    guess. Words an engine would take ('epoch', 'infinity') are not ISO-8601.
    The pattern admits years 0001-9999 and hours 00-23 only, and the UTC
    result must lie in years 0001-9999: DuckDB would read year 0000 as 1 BC
    and T24:00:00 as the next midnight, which Python's datetime rejects; the
    pattern makes every engine reject them. Kept equal to ISO_8601_PATTERN
    and UTC_TIMESTAMP_RANGE in scripts/raw_contract.py.
#}
{% macro parse_timestamp_utc(text_expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(text_expression) -%}
    {%- set parsed = "cast(timezone('UTC', try_cast(" ~ text_expression ~ " as timestamptz)) as timestamp)" -%}
    case
        when
            regexp_matches(
                {{ text_expression }},
                '^(\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})-\d{2}-\d{2}([T ]([01]\d|2[0-3]):\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$'
            )
            and {{ parsed }} between {{ agent_segments.utc_timestamp_range() }}
            then {{ parsed }}
    end
{%- endmacro %}

{#
    Spark: the same ISO-8601 gate, then Spark's own cast (the session zone is
    UTC, see profiles.yml). Spark would also take 'now', 'today' or '2024'.
#}
{% macro spark__parse_timestamp_utc(text_expression) -%}
    {%- set parsed = "cast(" ~ text_expression ~ " as timestamp)" -%}
    case
        when
            {{ text_expression }} rlike
            '^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?[ \\t\\n\\r\\f]*(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
            and {{ parsed }} between {{ agent_segments.utc_timestamp_range() }}
            then {{ parsed }}
    end
{%- endmacro %}

{#-
    The UTC moments a timestamp may be, for `between`: years 0001-9999 once
    the offset is applied (an offset can carry 0001-01-01T00:30+01:00 into
    1 BC, or 9999-12-31T23:30-01:00 into year 10000).
-#}
{% macro utc_timestamp_range() -%}
    cast('0001-01-01 00:00:00' as timestamp) and cast('9999-12-31 23:59:59.999999' as timestamp)
{%- endmacro %}
