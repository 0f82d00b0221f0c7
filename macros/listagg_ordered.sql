{#
    The non-null values of `measure` joined by `delimiter_text` in the order
    of `order_by`; null when there are none. dbt.listagg where the engine
    honours its order (DuckDB, Postgres); Spark's collect_list has no order,
    so its variant sorts (order_by, value) pairs.
#}
{% macro listagg_ordered(measure, delimiter_text, order_by) -%}
    {{ return(adapter.dispatch('listagg_ordered', 'agent_segments')(measure, delimiter_text, order_by)) }}
{%- endmacro %}

{% macro default__listagg_ordered(measure, delimiter_text, order_by) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_by) }}
{%- endmacro %}

{% macro spark__listagg_ordered(measure, delimiter_text, order_by) -%}
    case
        when count({{ measure }}) > 0
            then array_join(
                transform(
                    array_sort(collect_list(named_struct('sort_key', {{ order_by }}, 'item', {{ measure }}))),
                    pair -> pair.item
                ),
                {{ delimiter_text }}
            )
    end
{%- endmacro %}
