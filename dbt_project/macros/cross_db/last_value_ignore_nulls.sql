{#
    The last non-null value of `expression` up to the current row of an ordered window: "the
    value in force" of a field that only some rows set. `order_by` orders the rows within
    `partition_by` and must not tie. With `before_row`, up to the row before: the value in force
    before the current row set its own. Windows with the same partition and order share one sort.

    SQL:2011 `last_value(... ignore nulls)` where the engine has it (DuckDB, Snowflake,
    BigQuery, Redshift), `last(..., true)` on Spark; Postgres has neither, so there it is the
    last element of the window's array of non-null values.
#}
{% macro last_value_ignore_nulls(expression, partition_by, order_by, before_row=false) %}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'deskpulse')(expression, partition_by, order_by, before_row)) }}
{% endmacro %}

{% macro default__last_value_ignore_nulls(expression, partition_by, order_by, before_row) -%}
    last_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
    )
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression, partition_by, order_by, before_row) -%}
    last({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
    )
{%- endmacro %}

{% macro postgres__last_value_ignore_nulls(expression, partition_by, order_by, before_row) -%}
    {%- set non_null_values -%}
        array_agg({{ expression }}) filter (where ({{ expression }}) is not null) over (
            partition by {{ partition_by }}
            order by {{ order_by }}
            rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
        )
    {%- endset -%}
    ({{ non_null_values }})[cardinality({{ non_null_values }})]
{%- endmacro %}
