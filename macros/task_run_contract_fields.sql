{#
    The raw task-run contract, read from the columns of the source
    agent_logs.task_runs_parquet (models/staging/agent_logs/_agent_logs__sources.yml):
    a list of {name, kind, required} in the order the columns are declared.
    The first field with a wrong kind names a rejection, so the order matters.
    One definition serves the staging model, the docs and the Great
    Expectations suites.
#}
{% macro task_run_contract_fields() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set contract_source = graph.sources['source.agent_segments.agent_logs.task_runs_parquet'] -%}
    {%- set fields = [] -%}
    {%- for column in contract_source.columns.values() -%}
        {%- set meta = column.config.meta if column.config is defined and column.config.meta else column.meta -%}
        {%- if meta.contract_kind not in ('text', 'integer', 'number', 'timestamp', 'object') -%}
            {{ exceptions.raise_compiler_error(
                "Column " ~ column.name ~ " of source agent_logs.task_runs_parquet needs meta.contract_kind "
                ~ "(text, integer, number, timestamp or object), got " ~ meta.contract_kind
            ) }}
        {%- endif -%}
        {%- do fields.append({
            'name': column.name,
            'kind': meta.contract_kind,
            'required': meta.contract_required | default(false),
        }) -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}
