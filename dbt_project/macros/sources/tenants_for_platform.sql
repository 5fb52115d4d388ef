{#
    The configured tenants, from the `tenants` var (tenant_id -> platform, e.g. {"acme":
    "zendesk"}; a mapping {"platform": "zendesk", ...} as the value is accepted too), as a
    mapping tenant_id -> platform in id order. Ids are checked here because they become schema
    names (raw_<tenant_id>).
#}
{% macro configured_tenants() %}
    {%- set configured = var('tenants', {}) or {} -%}
    {%- if configured is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var 'tenants' must map tenant ids to platforms, e.g. {\"acme\": \"zendesk\"}"
        ) }}
    {%- endif -%}
    {%- set platforms = {} -%}
    {%- for tenant_id in configured | sort -%}
        {%- set value = configured[tenant_id] -%}
        {%- if not modules.re.match('^[a-z0-9_]{1,48}$', tenant_id | string) -%}
            {{ exceptions.raise_compiler_error(
                "var 'tenants': tenant id " ~ (tenant_id | string | tojson)
                ~ " must be 1-48 characters of lowercase a-z, 0-9 and _"
            ) }}
        {%- endif -%}
        {%- do platforms.update({tenant_id: value.get('platform') if value is mapping else value}) -%}
    {%- endfor -%}
    {{ return(platforms) }}
{% endmacro %}


{# The tenant ids of one platform, in id order. #}
{% macro tenants_for_platform(platform) %}
    {%- set tenant_ids = [] -%}
    {%- for tenant_id, tenant_platform in deskpulse.configured_tenants().items() -%}
        {%- if tenant_platform == platform -%}
            {%- do tenant_ids.append(tenant_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tenant_ids) }}
{% endmacro %}
