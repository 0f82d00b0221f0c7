{#
    A dbt warning naming the raw files that are empty (0 bytes): a delivery
    that arrived empty brings no record, and a build that said nothing would
    hide it. Called by raw_files_to_load, which never reads them.
#}
{% macro empty_raw_files_warned(empty_files) -%}
    {%- if empty_files -%}
        {{ exceptions.warn(
            empty_files | length ~ " raw file(s) in raw_path are empty (0 bytes) and bring no record: "
            ~ empty_files | join(', ')
        ) }}
    {%- endif -%}
{%- endmacro %}
