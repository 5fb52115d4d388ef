{#
    `materialized` for a CTE the engine should compute once and keep (spilling it to disk when
    memory is short) rather than inline into the query that reads it. DuckDB and Postgres take
    the keyword after `as`; Spark has none and decides for itself.
#}
{% macro materialized_cte() %}
    {{ return(adapter.dispatch('materialized_cte', 'deskpulse')()) }}
{% endmacro %}

{% macro default__materialized_cte() %}
    {{ return('materialized') }}
{% endmacro %}

{% macro spark__materialized_cte() %}
    {{ return('') }}
{% endmacro %}
