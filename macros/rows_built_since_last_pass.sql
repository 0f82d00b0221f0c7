{#
    Grain tests scoped to the rows written since they last passed (issue #4).

    An incremental build on DuckDB rewrites a few keys of its large tables
    and leaves the rest as stored, so testing every row again at each build
    makes the build's cost grow with the history instead of the new data.
    Each row of those tables carries `row_built_at`, when the build that
    wrote it started (build_started_at). A grain test given that column
    (unique_combination_of_columns' `built_at_column`) checks only the keys
    of rows written since the test last passed, against every row holding
    those keys: a repeat among rows older than that pass would have failed
    it. A test that fails records no pass, so it keeps checking the rows it
    failed on until they are fixed.

    The passes are recorded by the on-run-end hook record_scoped_test_passes
    in test_failures.data_test_passes, on DuckDB only: other engines rebuild
    these tables whole at every build, so there every row is new and the
    test reads all of them. With no pass on record (a new warehouse, a new
    test, another engine), the test reads every row. Rows changed outside
    dbt are not seen until a full refresh rewrites them; one DuckDB file
    admits one writing process at a time, so no build writes rows while
    another's test runs.
#}

{#- When this invocation started (UTC), as a timestamp literal: the value of `row_built_at`. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The table of the last pass of each scoped test: the data tests' schema, beside stored failures. -#}
{% macro data_test_passes_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='test_failures', identifier='data_test_passes')) }}
{%- endmacro %}

{#-
    Names a scoped test by what it checks, from the test and from the hook
    alike. The tested model's file is part of it: a changed model (a view
    above the rows, too) is tested whole once before its scope narrows.
-#}
{% macro scoped_test_key(tested_node, test_name, columns) -%}
    {{ return(
        tested_node.schema ~ '.' ~ tested_node.alias ~ ':' ~ test_name ~ '(' ~ columns | join(', ') ~ ')'
        ~ '@' ~ tested_node.checksum.checksum
    ) }}
{%- endmacro %}

{#-
    A condition true for the rows (aliased `built`) whose `built_at_column`
    is later than the test's last recorded pass (every row when none is
    recorded; a row without the column's value, written before it existed,
    counts as older than any pass), or none: test every row. None on other
    engines, where no pass is recorded, and on DuckDB before the passes
    table exists.
-#}
{% macro rows_built_since_last_pass(model, test_name, columns, built_at_column) -%}
    {{ return(adapter.dispatch('rows_built_since_last_pass', 'agent_segments')(
        model, test_name, columns, built_at_column
    )) }}
{%- endmacro %}

{% macro default__rows_built_since_last_pass(model, test_name, columns, built_at_column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__rows_built_since_last_pass(model, test_name, columns, built_at_column) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set passes = agent_segments.data_test_passes_relation() -%}
    {%- if adapter.get_relation(passes.database, passes.schema, passes.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested_nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('schema', 'equalto', model.schema) | selectattr('alias', 'equalto', model.identifier) | list -%}
    {%- set test_key = agent_segments.scoped_test_key(tested_nodes[0], test_name, columns) -%}
    {{ return(
        'coalesce(built.' ~ built_at_column ~ ", cast('1970-01-01' as timestamp)) > coalesce(("
        ~ 'select max(passed_build_started_at) from ' ~ passes
        ~ " where test_key = '" ~ test_key ~ "'), cast('1969-12-31' as timestamp))"
    ) }}
{%- endmacro %}

{#- on-run-end: records this invocation's start as the last pass of each scoped test that passed. -#}
{% macro record_scoped_test_passes() -%}
    {{ return(adapter.dispatch('record_scoped_test_passes', 'agent_segments')()) }}
{%- endmacro %}

{% macro default__record_scoped_test_passes() -%}
    select 1
{%- endmacro %}

{% macro duckdb__record_scoped_test_passes() -%}
    {#- An --empty or --sample build tests tables it rewrote empty or sampled: no pass to keep. -#}
    {%- if not execute or flags.EMPTY or flags.SAMPLE -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set test_keys = [] -%}
    {%- for result in results
        if result.status == 'pass' and result.node.resource_type == 'test'
        and result.node.test_metadata is defined and result.node.test_metadata is not none
        and result.node.test_metadata.kwargs.get('built_at_column') -%}
        {%- do test_keys.append(agent_segments.scoped_test_key(
            graph.nodes[result.node.attached_node], result.node.test_metadata.name,
            result.node.test_metadata.kwargs['columns']
        )) -%}
    {%- endfor -%}
    {%- if not test_keys -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set passes = agent_segments.data_test_passes_relation() -%}
    {%- set quoted_keys = [] -%}
    {%- for test_key in test_keys -%}
        {%- do quoted_keys.append("'" ~ test_key ~ "'") -%}
    {%- endfor -%}
    {%- set statements = [
        'create schema if not exists ' ~ passes.include(identifier=false),
        'create table if not exists ' ~ passes
            ~ ' (test_key varchar, passed_build_started_at timestamp, invocation_id varchar)',
        'delete from ' ~ passes ~ ' where test_key in (' ~ quoted_keys | join(', ') ~ ')',
    ] -%}
    {%- set rows = [] -%}
    {%- for quoted_key in quoted_keys -%}
        {%- do rows.append('(' ~ quoted_key ~ ', ' ~ agent_segments.build_started_at() ~ ", '" ~ invocation_id ~ "')") -%}
    {%- endfor -%}
    {%- do statements.append('insert into ' ~ passes ~ ' values ' ~ rows | join(', ')) -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
