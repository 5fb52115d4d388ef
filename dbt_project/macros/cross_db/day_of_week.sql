{#
    Day of the week of a date, Sunday = 0 to Saturday = 6, as Zendesk counts schedule minutes
    (from Sunday 00:00). Engines number weekdays differently (DuckDB and Postgres from Sunday = 0,
    Spark from Sunday = 1), so this counts days from a known Sunday instead: portable without
    dispatch. Dates before 1970-01-04 are not expected.
#}
{% macro sunday_day_of_week(date_expression) -%}
    mod({{ dbt.datediff("cast('1970-01-04' as date)", date_expression, 'day') }}, 7)
{%- endmacro %}
