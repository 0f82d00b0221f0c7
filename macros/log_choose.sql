{# ln(binomial coefficient) for integer expressions 0 <= k <= n. #}
{% macro log_choose(n, k) -%}
    ({{ agent_segments.log_factorial(n) }} - {{ agent_segments.log_factorial(k) }}
        - {{ agent_segments.log_factorial('(' ~ n ~ ') - (' ~ k ~ ')') }})
{%- endmacro %}
