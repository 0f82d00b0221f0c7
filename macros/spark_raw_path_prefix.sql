{#
    The var raw_path and a slash as a Spark SQL string literal: the start of
    every source_file on Spark, so a file is named as DuckDB's readers name
    it (the folder as given, then the file name).
#}
{% macro spark_raw_path_prefix() -%}
    '{{ (var('raw_path') ~ '/') | replace('\\', '\\\\') | replace("'", "\\'") }}'
{%- endmacro %}
