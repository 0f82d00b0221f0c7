{#
    ln(x!) for a non-negative integer expression: the building block of the
    exact hypergeometric (Fisher) tail in SQL.
#}
{% macro log_factorial(x) -%}
    {{ return(adapter.dispatch('log_factorial', 'agent_segments')(x)) }}
{%- endmacro %}

{% macro duckdb__log_factorial(x) -%}
    lgamma(cast({{ x }} as double) + 1)
{%- endmacro %}

{#
    Spark has no lgamma: ln(x!) exactly (to the last bit) from a table below
    20, else Stirling's series with four correction terms (absolute error
    below 2e-15).
#}
{% macro spark__log_factorial(x) -%}
    {%- set small = [
        '0.0', '0.0', '0.6931471805599453', '1.791759469228055', '3.1780538303479458',
        '4.787491742782046', '6.579251212010101', '8.525161361065415', '10.60460290274525',
        '12.801827480081469', '15.104412573075516', '17.502307845873887', '19.987214495661885',
        '22.552163853123425', '25.19122118273868', '27.89927138384089', '30.671860106080672',
        '33.50507345013689', '36.39544520803305', '39.339884187199495'
    ] -%}
    {%- set z = '(cast(' ~ x ~ ' as double) + 1)' -%}
    case
        when {{ x }} < {{ small | length }}
            then element_at(array({{ small | join('D, ') }}D), cast({{ x }} as int) + 1)
        else
            ({{ z }} - 0.5D) * ln({{ z }}) - {{ z }} + 0.9189385332046728D
            + 1.0D / (12.0D * {{ z }})
            - 1.0D / (360.0D * power({{ z }}, 3))
            + 1.0D / (1260.0D * power({{ z }}, 5))
            - 1.0D / (1680.0D * power({{ z }}, 7))
    end
{%- endmacro %}
