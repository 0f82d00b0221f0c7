{#
    Writes every mart as <folder>/<mart>.parquet after `dbt build` / `dbt run`
    (an on-run-end hook, so it runs even when the gap test failed: BI needs
    the data most then). The folder is the var parquet_export_path, else
    marts_parquet beside the DuckDB file; _export_0.parquet in it records when
    the export ran. Marts not built in this invocation's database are skipped.
    Other engines store tables as Parquet already: nothing to do there.
#}
{% macro export_marts_to_parquet() -%}
    {{ return(adapter.dispatch('export_marts_to_parquet', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__export_marts_to_parquet() -%}
    select 1
{%- endmacro %}

{% macro duckdb__export_marts_to_parquet() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set database_folder = target.path.rsplit('/', 1)[0] if '/' in target.path else '.' -%}
    {%- set export_folder = var('parquet_export_path') or (database_folder ~ '/marts_parquet') -%}
    {%- set statements = [] -%}
    {#- COPY creates the last folder of a per-thread output; the marker file is that output. -#}
    {%- do statements.append(
        "copy (select current_timestamp as exported_at) to '" ~ export_folder
        ~ "' (format parquet, per_thread_output true, filename_pattern '_export_{i}', overwrite_or_ignore true)"
    ) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts' and node.config.enabled -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
        {%- if relation is not none -%}
            {%- do statements.append(
                "copy (select * from " ~ relation ~ ") to '" ~ export_folder ~ "/" ~ node.alias
                ~ ".parquet' (format parquet)"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
