{#
    Custom schemas are used as they are: staging models land in `staging`, marts in `marts`,
    not in `<target schema>_marts` as dbt's default would name them. Nodes without a custom
    schema land in the target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
