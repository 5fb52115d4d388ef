{#
    As an aggregate: the value of `expression` on the group's row with the greatest `order_by`
    (one column, unique within the group), among the rows meeting `condition`. One pass over the
    rows, where ranking them in a window and joining back would sort them first. A null value on
    that row is the answer: it does not fall back to an earlier row.
#}
{% macro latest_value(expression, order_by, condition='true') %}
    {{ return(adapter.dispatch('latest_value', 'deskpulse')(expression, order_by, condition)) }}
{% endmacro %}

{% macro default__latest_value(expression, order_by, condition) -%}
    arg_max_null({{ expression }}, {{ order_by }}) filter (where {{ condition }})
{%- endmacro %}

{% macro postgres__latest_value(expression, order_by, condition) -%}
    (array_agg({{ expression }} order by {{ order_by }} desc) filter (where {{ condition }}))[1]
{%- endmacro %}

{% macro spark__latest_value(expression, order_by, condition) -%}
    max_by({{ expression }}, {{ order_by }}) filter (where {{ condition }})
{%- endmacro %}
