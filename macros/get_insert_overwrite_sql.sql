{#
    Overrides dbt-spark's insert_overwrite statement (a root-project macro of
    the same name wins). Spark refuses to overwrite a table that the same
    query reads, and segment_alerts reads its previous state from {{ this }}:
    the new rows are first copied to <table>__dbt_staged (replaced at every
    build), then the table is overwritten from that copy. Spark only.
#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set staged_relation = target_relation.incorporate(
        path={"identifier": target_relation.identifier ~ '__dbt_staged'}
    ) -%}
    {%- do run_query('drop table if exists ' ~ staged_relation) -%}
    {%- do run_query('create table ' ~ staged_relation ~ ' as select * from ' ~ source_relation) -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target_relation) -%}
    {%- set dest_cols_csv = dest_columns | map(attribute='quoted') | join(', ') -%}
    {% if existing_relation.is_iceberg %}
        insert overwrite {{ target_relation }}
    {% else %}
        insert overwrite table {{ target_relation }}
        {{ partition_cols(label="partition") }}
    {% endif %}
    select {{ dest_cols_csv }} from {{ staged_relation }}
{% endmacro %}
