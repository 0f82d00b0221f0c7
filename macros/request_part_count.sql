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
