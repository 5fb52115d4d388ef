{#
    Elapsed minutes from one timestamp to a later one, as a decimal number: elapsed seconds / 60
    (docs/metrics.md "minutes"), not a count of minute boundaries. Null when either end is null.
#}
{% macro minutes_between(start_timestamp, end_timestamp) -%}
    cast({{ dbt.datediff(start_timestamp, end_timestamp, 'second') }} / 60.0 as {{ deskpulse.warehouse_type('double precision') }})
{%- endmacro %}
