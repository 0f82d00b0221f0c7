{#
    on-run-end hook: records this invocation's start as the last pass of
    every scoped grain test that passed in it with no failing row, with the
    tested view's definition as deployed (macros/rows_built_since_last_pass.sql).
    DuckDB only: other engines rebuild the tables whole, so every row is new.
    Listed after the Parquet export, so a failure here cannot hold back the
    marts' publication.
#}
{% macro record_scoped_test_passes() -%}
    {{ return(adapter.dispatch('record_scoped_test_passes', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__record_scoped_test_passes() -%}
    select 1
{%- endmacro %}

{% macro duckdb__record_scoped_test_passes() -%}
    {#- An --empty or --sample build tests tables it rewrote empty or sampled: no pass to keep. -#}
    {% if not execute or flags.EMPTY or flags.SAMPLE %}
        {{ return('select 1') }}
    {% endif %}
    {% set passes = agent_segments.data_test_passes_relation() %}
    {% set passed = [] %}
    {% for result in results
        if result.node.resource_type == 'test' and result.status == 'pass' and result.failures == 0
        and result.node.test_metadata is defined and result.node.test_metadata is not none
        and result.node.test_metadata.kwargs.get('built_at_column') %}
        {% set tested = graph.nodes[result.node.attached_node] %}
        {% set tested_relation = agent_segments.model_node_relation(tested) %}
        {#- rows_built_in, when given, is the test's other model. -#}
        {% set others = result.node.depends_on.nodes | reject('equalto', tested.unique_id) | list %}
        {% set test_key = agent_segments.scoped_test_key(
            tested_relation,
            result.node.test_metadata.name,
            result.node.test_metadata.kwargs['columns'],
            result.node.test_metadata.kwargs['built_at_column'],
            agent_segments.model_node_relation(graph.nodes[others[0]] if others else tested)
        ) %}
        {% do passed.append({
            'test_key': test_key,
            'definition': agent_segments.deployed_view_definition(tested_relation),
        }) %}
    {% endfor %}
    {% if not passed %}
        {{ return('select 1') }}
    {% endif %}
    {% set statements = [
        'create schema if not exists ' ~ passes.include(identifier=false),
        'create table if not exists ' ~ passes ~ ' (test_key varchar, invocation_id varchar,'
            ~ ' tested_view_definition varchar, passed_build_started_at timestamp)',
        "delete from " ~ passes ~ " where test_key in ('" ~ passed | map(attribute='test_key') | join("', '") ~ "')",
    ] %}
    {% for test in passed %}
        {% do statements.append(
            'insert into ' ~ passes ~ " select '" ~ test.test_key ~ "', '" ~ invocation_id ~ "', "
            ~ test.definition ~ ', ' ~ agent_segments.build_started_at()
        ) %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
