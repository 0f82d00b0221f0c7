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

    What a pass covers is named by its key (scoped_test_key) and, for a
    tested view, by the view's definition as deployed: a view whose SQL
    changed is tested whole once. A table needs no more: a change to its SQL
    rewrites (and so stamps) every row at its next build.

    Passes are recorded by the on-run-end hook record_scoped_test_passes in
    test_failures.data_test_passes, on DuckDB only: other engines rebuild
    these tables whole at every build, so there every row is new and the
    test reads all of them. With no pass on record (a new warehouse, a new
    test, another engine), the test reads every row. Rows changed outside
    dbt are not looked at again; deleting the table's rows tests everything.
    The profile keeps the DuckDB file open for the whole invocation
    (keep_open), so no other process writes rows between a build's steps.
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
    Names a scoped test by what it checks, the same from the test and from
    the hook: the tested relation, the test, its columns, the build-time
    column and the relation holding it.
-#}
{% macro scoped_test_key(tested_relation, test_name, columns, built_at_column, rows_built_in) -%}
    {{ return(
        tested_relation.schema ~ '.' ~ tested_relation.identifier ~ ':' ~ test_name
        ~ '(' ~ columns | join(', ') ~ ')'
        ~ ' by ' ~ rows_built_in.schema ~ '.' ~ rows_built_in.identifier ~ '.' ~ built_at_column
    ) }}
{%- endmacro %}

{#- SQL: an md5 of the deployed definition of `relation` if it is a view, null for a table. -#}
{% macro deployed_view_definition(relation) -%}
    (
        select md5(sql) from duckdb_views()
        where
            database_name = '{{ relation.database }}'
            and schema_name = '{{ relation.schema }}'
            and view_name = '{{ relation.identifier }}'
    )
{%- endmacro %}

{#-
    A condition true for the rows (aliased `built`) whose `built_at_column`
    is later than the test's last recorded pass on the relation as deployed
    now (every row when none is recorded; a row without the column's value,
    written before it existed, counts as older than any pass), or none: test
    every row. None on other engines, where no pass is recorded, and on
    DuckDB before the passes table exists.
-#}
{% macro rows_built_since_last_pass(tested_relation, test_name, columns, built_at_column, rows_built_in) -%}
    {{ return(adapter.dispatch('rows_built_since_last_pass', 'agent_segments')(
        tested_relation, test_name, columns, built_at_column, rows_built_in
    )) }}
{%- endmacro %}

{% macro default__rows_built_since_last_pass(tested_relation, test_name, columns, built_at_column, rows_built_in) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__rows_built_since_last_pass(tested_relation, test_name, columns, built_at_column, rows_built_in) -%}
    {% if not execute %}
        {{ return(none) }}
    {% endif %}
    {% set passes = agent_segments.data_test_passes_relation() %}
    {% if adapter.get_relation(passes.database, passes.schema, passes.identifier) is none %}
        {{ return(none) }}
    {% endif %}
    {% set test_key = agent_segments.scoped_test_key(
        tested_relation, test_name, columns, built_at_column, rows_built_in
    ) %}
    {{ return(
        'coalesce(built.' ~ built_at_column ~ ", cast('1970-01-01' as timestamp)) > coalesce(("
        ~ 'select max(passed_build_started_at) from ' ~ passes
        ~ " where test_key = '" ~ test_key ~ "'"
        ~ ' and tested_view_definition is not distinct from '
        ~ agent_segments.deployed_view_definition(tested_relation)
        ~ "), cast('1969-12-31' as timestamp))"
    ) }}
{%- endmacro %}
