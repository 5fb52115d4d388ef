{#
    A relation of the whole numbers 0 .. 10^digits - 1 in one column `n`, from cross-joined
    digits: portable to every warehouse, no generate_series needed. Used for date spines
    (5 digits: 100,000 days, well over two centuries).
#}
{% macro integers(digits) -%}
    {%- set digit_values = [] -%}
    {%- for value in range(10) -%}
        {%- do digit_values.append('select ' ~ value ~ ' as d') -%}
    {%- endfor -%}
    select
        {% for position in range(digits) -%}
        digit_{{ position }}.d * {{ 10 ** position }}{{ ' +' if not loop.last }}
        {% endfor -%} as n
    from
        {% for position in range(digits) -%}
        ({{ digit_values | join(' union all ') }}) as digit_{{ position }}{{ ' cross join' if not loop.last }}
        {% endfor %}
{%- endmacro %}
