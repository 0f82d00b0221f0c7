{#
    The pre-hook of the staging models. On Spark, each raw source the model
    reads becomes an external table over the files of raw_path whose names
    match the source's meta.raw_files glob, as meta.spark_table says
    ({using, columns, options}); it is dropped and registered again each run,
    so raw_path may change between runs (dropping it leaves the files). A
    source without matching files is left unregistered: the models check
    raw_files_exist first. DuckDB reads the files in place (the sources'
    external_location), so the default does nothing.
#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {#- A relative raw_path would be read inside the warehouse: use the folder's URI. -#}
        {%- set listing = run_query(
            "select regexp_extract(min(_metadata.file_path), '^(.*)/[^/]*$', 1) from binaryFile.`"
            ~ var('raw_path') | replace('`', '``') ~ "`"
        ) -%}
        {%- set raw_folder = listing.columns[0].values()[0] -%}
        {%- for node_id in model.depends_on.nodes if node_id.startswith('source.') -%}
            {%- set source_node = graph.sources[node_id] -%}
            {%- set meta = source_node.config.meta if source_node.config.meta else source_node.meta -%}
            {%- if meta.raw_files and meta.spark_table -%}
                {%- set table = meta.spark_table -%}
                {%- set relation = api.Relation.create(schema=source_node.schema, identifier=source_node.identifier) -%}
                {%- set options = {'path': raw_folder, 'pathGlobFilter': meta.raw_files} -%}
                {%- do options.update(table.options or {}) -%}
                {%- do run_query('create schema if not exists ' ~ source_node.schema) -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- if agent_segments.raw_files_exist(meta.raw_files) -%}
                    {%- call statement('register_' ~ source_node.identifier) -%}
                        create table {{ relation }}
                        {%- if table.columns %} ({{ table.columns }}){% endif %}
                        using {{ table.using }}
                        options (
                            {%- for key, value in options.items() %}
                            {{ key }} '{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
                            {%- if not loop.last %},{% endif %}
                            {%- endfor %}
                        )
                    {%- endcall -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
