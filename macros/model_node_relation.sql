{#- The relation a model node of dbt's graph is built as (its database, schema and alias). -#}
{% macro model_node_relation(node) -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}
