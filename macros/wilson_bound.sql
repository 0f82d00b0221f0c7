{#
    One end of the Wilson score interval for `successes` out of `trials`
    at normal quantile `z` (bound = 'lower' or 'upper'), clipped to [0, 1].
    wilson_bound(s, n, z, 'upper') < t is exactly the one-sided score test of
    "the true rate is below t". Null when trials is 0.
#}
{% macro wilson_bound(successes, trials, z, bound) -%}
    {%- if bound not in ('lower', 'upper') -%}
        {{ exceptions.raise_compiler_error("wilson_bound: bound must be 'lower' or 'upper', got " ~ bound) }}
    {%- endif -%}
    {%- set n = 'cast(' ~ trials ~ ' as double)' -%}
    {%- set p = '(' ~ successes ~ ' / ' ~ n ~ ')' -%}
    {%- set z2 = '((' ~ z ~ ') * (' ~ z ~ '))' -%}
    {%- set center = '((' ~ successes ~ ' + ' ~ z2 ~ ' / 2) / (' ~ n ~ ' + ' ~ z2 ~ '))' -%}
    {%- set half_width = '((' ~ z ~ ') / (1 + ' ~ z2 ~ ' / ' ~ n ~ ') * sqrt(' ~ p ~ ' * (1 - ' ~ p ~ ') / ' ~ n
        ~ ' + ' ~ z2 ~ ' / (4 * ' ~ n ~ ' * ' ~ n ~ ')))' -%}
    case
        when {{ trials }} > 0 then
            {%- if bound == 'lower' %}
            -- Exactly 0 with no successes; the formula only rounds to it.
            case when {{ successes }} = 0 then 0.0 else greatest(0.0, {{ center }} - {{ half_width }}) end
            {%- else %}
            -- Exactly 1 with no failures; the formula only rounds to it.
            case when {{ successes }} = {{ trials }} then 1.0 else least(1.0, {{ center }} + {{ half_width }}) end
            {%- endif %}
    end
{%- endmacro %}
