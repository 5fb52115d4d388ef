{#
    Which tenants' raw schemas hold a table, and with which columns: {schema: [column names,
    lowercase]}, schemas without the table left out. Staging asks this once per model and
    tenant (macros/sources/union_tenant_sources.sql); on DuckDB one catalog query answers for
    every tenant, where asking the adapter table by table costs a query and its parsing each.
#}
{% macro tenant_table_columns(database, schemas, identifier) %}
    {{ return(adapter.dispatch('tenant_table_columns', 'deskpulse')(database, schemas, identifier)) }}
{% endmacro %}

{% macro default__tenant_table_columns(database, schemas, identifier) %}
    {%- set found = {} -%}
    {%- for schema in schemas -%}
        {%- set relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
        {%- if relation is not none -%}
            {%- do found.update({schema: adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}

{% macro duckdb__tenant_table_columns(database, schemas, identifier) %}
    {%- set found = {} -%}
    {%- if schemas | length == 0 -%}
        {{ return(found) }}
    {%- endif -%}
    {%- set columns = run_query(
        "select schema_name, lower(column_name) from duckdb_columns()"
        ~ " where lower(database_name) = lower('" ~ database ~ "')"
        ~ " and lower(table_name) = lower('" ~ identifier ~ "')"
        ~ " and schema_name in ('" ~ schemas | join("', '") ~ "')"
        ~ " order by schema_name, column_index"
    ) -%}
    {%- for schema, column in columns.rows -%}
        {%- do found.setdefault(schema, []).append(column) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}
