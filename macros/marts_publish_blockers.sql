{#
    Why this invocation's marts must not be published, as a list of reasons
    (empty: publish). Read in the on-run-end hook, where `results` holds every
    node's outcome. A set of marts is published only when all of them were
    built in this invocation and nothing it ran failed, except the gap test:
    a segment in alert is a finding, the reason the marts are read, not a
    broken build (README, "Two commands").
#}
{% macro marts_publish_blockers(mart_unique_ids) -%}
    {%- set blockers = [] -%}
    {%- set built = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- set is_gap_test = node.resource_type == 'test'
            and node.test_metadata is defined and node.test_metadata is not none
            and node.test_metadata.name == 'segment_gap_within_threshold' -%}
        {%- if node.resource_type == 'model' and result.status == 'success' -%}
            {%- do built.append(node.unique_id) -%}
        {%- elif result.status in ('error', 'fail', 'skipped', 'runtime error')
            and not (is_gap_test and result.status == 'fail') -%}
            {%- do blockers.append(node.resource_type ~ ' ' ~ node.name ~ ' ' ~ result.status) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- Marts built on no rows or on a sample are not the marts. -#}
    {%- if flags.EMPTY -%}
        {%- do blockers.append('an --empty build') -%}
    {%- endif -%}
    {%- if flags.SAMPLE -%}
        {%- do blockers.append('a --sample build') -%}
    {%- endif -%}
    {%- set not_built = [] -%}
    {%- for unique_id in mart_unique_ids if unique_id not in built -%}
        {%- do not_built.append(unique_id.split('.')[-1]) -%}
    {%- endfor -%}
    {%- if not_built -%}
        {%- do blockers.append('marts not built by this invocation: ' ~ not_built | join(', ')) -%}
    {%- endif -%}
    {{ return(blockers) }}
{%- endmacro %}
