{#
    Text without leading and trailing whitespace (space, tab, CR, LF, FF),
    or null when nothing is left: blank text means "not given".
#}
{% macro trim_whitespace(text_expression) -%}
    nullif(regexp_replace({{ text_expression }}, '^\s+|\s+$', '', 'g'), '')
{%- endmacro %}
