{#
    The last non-null value of `expression` up to the current row of an ordered window: "the
    value in force" of a field that only some rows set. `sequence` orders the rows within
    `partition_by` (a whole number, e.g. a row_number computed beforehand). With `before_row`,
    up to the row before: the value in force before the current row set its own. Calls with
    the same partition and sequence share one sort.

    SQL:2011 `last_value(... ignore nulls)` where the engine has it (DuckDB, Snowflake,
    BigQuery, Redshift), `last(..., true)` on Spark; Postgres has neither, so there the value is
    carried by the running maximum of the zero-padded sequence prefixed to it.
#}
{% macro last_value_ignore_nulls(expression, partition_by, sequence, before_row=false) %}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'deskpulse')(expression, partition_by, sequence, before_row)) }}
{% endmacro %}

{% macro default__last_value_ignore_nulls(expression, partition_by, sequence, before_row) -%}
    last_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ sequence }}
        rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
    )
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression, partition_by, sequence, before_row) -%}
    last({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ sequence }}
        rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
    )
{%- endmacro %}

{% macro postgres__last_value_ignore_nulls(expression, partition_by, sequence, before_row) -%}
    substr(
        max(
            case
                when ({{ expression }}) is not null
                    then lpad(cast({{ sequence }} as text), 20, '0') || cast({{ expression }} as text)
            end
        ) over (
            partition by {{ partition_by }}
            order by {{ sequence }}
            rows between unbounded preceding and {{ '1 preceding' if before_row else 'current row' }}
        ),
        21
    )
{%- endmacro %}
