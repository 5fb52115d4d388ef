{#
    Data test: every non-null value of each listed column lies within its bounds, e.g.
    ranges: {csat_pct: [0, 1], first_reply_minutes: [0, null]} (null: unbounded). One query for
    all the model's bounded columns: a range test per column would cost a query and a node each.
    Failing rows name the first column out of range.
#}
{% test columns_in_range(model, ranges) %}
    {%- set checks = [] -%}
    {%- for column, bounds in ranges.items() -%}
        {%- set low, high = bounds[0], bounds[1] -%}
        {%- if low is none and high is none -%}
            {{ exceptions.raise_compiler_error("columns_in_range: " ~ column ~ " needs a bound") }}
        {%- endif -%}
        {%- set parts = [] -%}
        {%- if low is not none %}{% do parts.append(column ~ ' < ' ~ low) %}{% endif -%}
        {%- if high is not none %}{% do parts.append(column ~ ' > ' ~ high) %}{% endif -%}
        {%- do checks.append((column, parts | join(' or '))) -%}
    {%- endfor %}

select
    case
        {%- for column, condition in checks %}
        when {{ condition }} then '{{ column }}'
        {%- endfor %}
    end as out_of_range_column
from {{ model }}
where
    {%- for column, condition in checks %}
    ({{ condition }}){{ ' or' if not loop.last }}
    {%- endfor %}
{% endtest %}
