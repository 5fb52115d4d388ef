{#
    Exact percentile with linear interpolation between the two nearest values, as an aggregate
    (docs/metrics.md: "exact percentile, linear interpolation, as percentile_cont"). `fraction` is a
    number between 0 and 1.
#}
{% macro percentile_cont(expression, fraction) %}
    {{ return(adapter.dispatch('percentile_cont', 'deskpulse')(expression, fraction)) }}
{% endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
