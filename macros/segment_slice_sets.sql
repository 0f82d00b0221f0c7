{#
    The combinations of segment dimensions to search: every set of 1 to
    `max_slice_level` configured dimensions, high-cardinality dimensions
    (var high_cardinality_dimensions, e.g. user and customer) only in sets of
    at most 2, and never two high-cardinality dimensions together. Each set
    is a list of dimensions (dicts from segment_dimensions) sorted by name,
    so a slice has one canonical key; sets come level by level.
#}
{% macro segment_slice_sets() -%}
    {%- set dimensions = agent_segments.segment_dimensions() | sort(attribute='name') -%}
    {%- set max_level = var('max_slice_level') -%}
    {%- if max_level is not number or max_level < 1 or max_level > 4 -%}
        {{ exceptions.raise_compiler_error(
            "The var max_slice_level must be 1, 2, 3 or 4, got " ~ max_level
        ) }}
    {%- endif -%}
    {%- set high_cardinality = var('high_cardinality_dimensions') -%}
    {#- Every subset of at most max_level dimensions, grown one dimension at a time. -#}
    {%- set subsets = [[]] -%}
    {%- for dimension in dimensions -%}
        {%- for subset in subsets[:] if subset | length < max_level -%}
            {%- do subsets.append(subset + [dimension]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set slice_sets = [] -%}
    {%- for level in range(1, max_level + 1) -%}
        {%- for subset in subsets if subset | length == level -%}
            {%- set high_cardinality_count = subset | selectattr('name', 'in', high_cardinality) | list | length -%}
            {%- if level == 1 or high_cardinality_count == 0 or (level == 2 and high_cardinality_count == 1) -%}
                {%- do slice_sets.append(subset) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(slice_sets) }}
{%- endmacro %}
