{#
    Φ⁻¹(probability) for a constant `probability` in (0, 1), as a SQL
    expression (Acklam's rational approximation, relative error < 1.2e-9).
    SQL engines have no inverse normal; the confidence vars become z here.
    Tail expressions multiply by a double, so engines never treat the
    constants as fixed-point decimals.
#}
{% macro normal_quantile(probability) -%}
    {%- if probability is not number or probability <= 0 or probability >= 1 -%}
        {{ exceptions.raise_compiler_error(
            "normal_quantile needs a probability strictly between 0 and 1, got " ~ probability
        ) }}
    {%- endif -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- set p_low = 0.02425 -%}
    {%- if probability < p_low -%}
        {%- set q = 'cast(sqrt(-2 * ln(' ~ probability ~ ')) as double)' -%}
        ((((({{ c[0] }} * {{ q }} + {{ c[1] }}) * {{ q }} + {{ c[2] }}) * {{ q }} + {{ c[3] }}) * {{ q }} + {{ c[4] }}) * {{ q }} + {{ c[5] }})
        / (((({{ d[0] }} * {{ q }} + {{ d[1] }}) * {{ q }} + {{ d[2] }}) * {{ q }} + {{ d[3] }}) * {{ q }} + 1)
    {%- elif probability > 1 - p_low -%}
        {%- set q = 'cast(sqrt(-2 * ln(1 - ' ~ probability ~ ')) as double)' -%}
        -((((({{ c[0] }} * {{ q }} + {{ c[1] }}) * {{ q }} + {{ c[2] }}) * {{ q }} + {{ c[3] }}) * {{ q }} + {{ c[4] }}) * {{ q }} + {{ c[5] }})
        / (((({{ d[0] }} * {{ q }} + {{ d[1] }}) * {{ q }} + {{ d[2] }}) * {{ q }} + {{ d[3] }}) * {{ q }} + 1)
    {%- else -%}
        {#- The central region needs no logarithm: Jinja computes the number. -#}
        {%- set q = probability - 0.5 -%}
        {%- set r = q * q -%}
        {%- set z = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1) -%}
        cast({{ z }} as double)
    {%- endif -%}
{%- endmacro %}
