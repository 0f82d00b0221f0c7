{#
    How many asks a request holds: the text split on '?', ';', line breaks
    and the words "and then" / "also", counting parts with a letter or digit.
    Null for a blank request.
#}
{% macro request_part_count(text_expression) -%}
    {{ return(adapter.dispatch('request_part_count', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__request_part_count(text_expression) -%}
    case
        when {{ agent_segments.trim_whitespace(text_expression) }} is not null
            then len(list_filter(
                regexp_split_to_array(lower({{ text_expression }}), '[?;\n\r]|\band then\b|\balso\b'),
                lambda request_part: regexp_matches(request_part, '[\pL\pN]')
            ))
    end
{%- endmacro %}

{#
    Spark: the same split; Java's \b is not ASCII-only, so word boundaries
    are spelled as DuckDB (RE2) reads them.
#}
{% macro spark__request_part_count(text_expression) -%}
    {%- set word_start = '(?<![A-Za-z0-9_])' -%}
    {%- set word_end = '(?![A-Za-z0-9_])' -%}
    case
        when {{ agent_segments.trim_whitespace(text_expression) }} is not null
            then cast(size(filter(
                split(
                    lower({{ text_expression }}),
                    '[?;\\n\\r]|{{ word_start }}and then{{ word_end }}|{{ word_start }}also{{ word_end }}'
                ),
                request_part -> request_part rlike '[\\p{L}\\p{N}]'
            )) as bigint)
    end
{%- endmacro %}
