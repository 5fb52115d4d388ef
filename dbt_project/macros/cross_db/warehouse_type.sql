{#
    The warehouse's name for a data type declared in yml. Sources and contracts declare ANSI
    names (varchar, bigint, boolean, date, timestamp with time zone) that DuckDB and Postgres
    take as they are; Spark spells some of them differently.
#}
{% macro warehouse_type(declared_type) %}
    {{ return(adapter.dispatch('warehouse_type', 'deskpulse')(declared_type)) }}
{% endmacro %}

{% macro default__warehouse_type(declared_type) %}
    {{ return(declared_type) }}
{% endmacro %}

{% macro spark__warehouse_type(declared_type) %}
    {%- set spark_names = {
        'varchar': 'string',
        'text': 'string',
        'timestamp with time zone': 'timestamp',
        'double precision': 'double',
    } -%}
    {{ return(spark_names.get(declared_type | lower | trim, declared_type)) }}
{% endmacro %}
