{#
    The segment dimensions to analyse, from the var `segment_dimensions`,
    checked and resolved to SQL. Each item is a dict:
      name        as configured ('customer', 'attributes.region')
      expression  SQL over fct_task_runs that gives the segment value
      column      a safe column name for the value ('dim_attributes_region')
    A built-in name maps to a column of fct_task_runs; `attributes.<key>`
    reads that key of the task's attributes object. Anything else fails the
    build with the list of valid names, so a typo never analyses nothing.
#}
{% macro segment_dimensions() -%}
    {%- set built_in = agent_segments.segment_dimension_catalog() -%}
    {%- set configured = var('segment_dimensions') -%}
    {%- if configured is string or configured is not iterable or configured | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "The var segment_dimensions must be a non-empty list of dimension names, got: " ~ configured
        ) }}
    {%- endif -%}
    {%- set resolved = [] -%}
    {%- set seen_columns = [] -%}
    {%- for name in configured -%}
        {%- if name in built_in -%}
            {%- set expression = built_in[name] -%}
        {%- elif name is string and name.startswith('attributes.') -%}
            {%- set key = name[11:] -%}
            {%- if not modules.re.fullmatch('[A-Za-z0-9_-]{1,64}', key) -%}
                {{ exceptions.raise_compiler_error(
                    "Segment dimension '" ~ name ~ "': an attributes key may hold only letters, digits, "
                    ~ "'_' and '-' (at most 64 characters)."
                ) }}
            {%- endif -%}
            {%- set expression = agent_segments.json_text('attributes_json', "'$.\"" ~ key ~ "\"'") -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "Unknown segment dimension '" ~ name ~ "' in the var segment_dimensions. Use one of: "
                ~ (built_in.keys() | list | join(', ')) ~ ", or attributes.<key> for a key of the "
                ~ "task's attributes object."
            ) }}
        {%- endif -%}
        {%- set column = 'dim_' ~ (name | replace('.', '_') | replace('-', '_') | lower) -%}
        {%- if column in seen_columns -%}
            {{ exceptions.raise_compiler_error(
                "Segment dimension '" ~ name ~ "' is listed twice in the var segment_dimensions "
                ~ "(or clashes with another name once '.' and '-' become '_')."
            ) }}
        {%- endif -%}
        {%- do seen_columns.append(column) -%}
        {%- do resolved.append({'name': name, 'expression': expression, 'column': column}) -%}
    {%- endfor -%}
    {{ return(resolved) }}
{%- endmacro %}
