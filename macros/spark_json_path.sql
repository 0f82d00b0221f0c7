{#
    A JSON path literal as the models write it for DuckDB ('$."key"') in
    the form Spark's get_json_object and variant_get read ('$[''key'']').
    Other paths ('$') pass through. Used by the spark__ JSON macros.
#}
{% macro spark_json_path(path) -%}
    {%- set path = path | trim -%}
    {%- if path.startswith("'$.\"") and path.endswith("\"'") and path | length > 6 -%}
        {{ return("'$[''" ~ path[4:-2] ~ "'']'") }}
    {%- endif -%}
    {{ return(path) }}
{%- endmacro %}
