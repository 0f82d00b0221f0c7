{#
    Text without leading and trailing whitespace (space, tab, CR, LF, FF),
    or null when nothing is left: blank text means "not given".
#}
{% macro trim_whitespace(text_expression) -%}
    {{ return(adapter.dispatch('trim_whitespace', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro default__trim_whitespace(text_expression) -%}
    nullif(regexp_replace({{ text_expression }}, '^\s+|\s+$', '', 'g'), '')
{%- endmacro %}

{#
    Spark: regexp_replace replaces every match, and backslashes in string
    literals are escapes; the class is spelled out as RE2's \s reads it.
#}
{% macro spark__trim_whitespace(text_expression) -%}
    nullif(regexp_replace({{ text_expression }}, '^[ \\t\\n\\r\\f]+|[ \\t\\n\\r\\f]+$', ''), '')
{%- endmacro %}

{#
    True when `text_expression` is null or whitespace only (as above): a
    search for one other character, far cheaper than trimming long text.
#}
{% macro is_blank(text_expression) -%}
    {{ return(adapter.dispatch('is_blank', 'agent_segments')(text_expression)) }}
{%- endmacro %}

{% macro default__is_blank(text_expression) -%}
    not coalesce(regexp_matches({{ text_expression }}, '[^ \t\n\r\f]'), false)
{%- endmacro %}

{% macro spark__is_blank(text_expression) -%}
    not coalesce({{ text_expression }} rlike '[^ \\t\\n\\r\\f]', false)
{%- endmacro %}
