{#
    Union one raw table over every tenant of a platform.

    Each tenant's raw data sits in its own schema raw_<tenant_id>. The declared dbt source
    (`source(platform, table_name)`) gives lineage, the database and the table name; its declared
    columns and data types give the shape. For every tenant of the platform whose table exists,
    this selects each declared column cast to its declared type, or a typed null when that
    tenant's table lacks the column (an older load, a field the account does not use). Tenants
    whose table does not exist yet are skipped; with none left, a typed empty select is returned
    so downstream models still build. tenant_id always comes from the schema the row was read
    from.
#}
{% macro union_tenant_sources(platform, table_name) %}
    {%- set template = source(platform, table_name) -%}
    {%- if not execute -%}
        {{ return('select 1 as parse_placeholder') }}
    {%- endif -%}

    {%- set declared = [] -%}
    {%- for node in graph.sources.values()
            if node.source_name == platform and node.name == table_name -%}
        {%- for column in node.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error(
                    "source " ~ platform ~ "." ~ table_name ~ ": column " ~ column.name
                    ~ " has no data_type"
                ) }}
            {%- endif -%}
            {%- do declared.append({
                'name': column.name | lower,
                'type': deskpulse.warehouse_type(column.data_type),
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if declared | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ platform ~ "." ~ table_name ~ " declares no columns"
        ) }}
    {%- endif -%}

    {%- set tenant_ids = deskpulse.tenants_for_platform(platform) -%}
    {%- set schemas = [] -%}
    {%- for tenant_id in tenant_ids -%}
        {%- do schemas.append('raw_' ~ tenant_id) -%}
    {%- endfor -%}
    {%- set present_by_schema = deskpulse.tenant_table_columns(template.database, schemas, template.identifier) -%}

    {%- set selects = [] -%}
    {%- for tenant_id in tenant_ids -%}
        {%- set present = present_by_schema.get('raw_' ~ tenant_id) -%}
        {%- if present is not none -%}
            {%- set relation = api.Relation.create(
                database=template.database,
                schema='raw_' ~ tenant_id,
                identifier=template.identifier,
            ) -%}
            {%- set columns = [] -%}
            {%- for column in declared -%}
                {%- if column.name == 'tenant_id' -%}
                    {%- do columns.append(
                        "cast('" ~ tenant_id ~ "' as " ~ column.type ~ ") as tenant_id"
                    ) -%}
                {%- elif column.name in present -%}
                    {%- do columns.append(
                        "cast(" ~ adapter.quote(column.name) ~ " as " ~ column.type ~ ") as "
                        ~ adapter.quote(column.name)
                    ) -%}
                {%- else -%}
                    {%- do columns.append(
                        "cast(null as " ~ column.type ~ ") as " ~ adapter.quote(column.name)
                    ) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do selects.append(
                "select\n        " ~ columns | join(",\n        ") ~ "\n    from " ~ relation
            ) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if selects | length == 0 -%}
        {%- set columns = [] -%}
        {%- for column in declared -%}
            {%- do columns.append(
                "cast(null as " ~ column.type ~ ") as " ~ adapter.quote(column.name)
            ) -%}
        {%- endfor -%}
        {%- do selects.append(
            "select\n        " ~ columns | join(",\n        ") ~ "\n    where 1 = 0"
        ) -%}
    {%- endif -%}

    {{ return(selects | join("\n\n    union all\n\n    ")) }}
{% endmacro %}
