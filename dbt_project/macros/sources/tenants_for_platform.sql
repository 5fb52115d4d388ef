{#
    The tenant ids of one platform, from the `tenants` var (tenant_id -> platform, e.g.
    {"acme": "zendesk"}; a mapping {"platform": "zendesk", ...} as the value is accepted too).
    Ids are checked here because they become schema names (raw_<tenant_id>).
#}
{% macro tenants_for_platform(platform) %}
    {%- set configured = var('tenants', {}) or {} -%}
    {%- if configured is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var 'tenants' must map tenant ids to platforms, e.g. {\"acme\": \"zendesk\"}"
        ) }}
    {%- endif -%}
    {%- set tenant_ids = [] -%}
    {%- for tenant_id in configured | sort -%}
        {%- set value = configured[tenant_id] -%}
        {%- set tenant_platform = value.get('platform') if value is mapping else value -%}
        {%- if not modules.re.match('^[a-z0-9_]{1,48}$', tenant_id | string) -%}
            {{ exceptions.raise_compiler_error(
                "var 'tenants': tenant id " ~ (tenant_id | string | tojson)
                ~ " must be 1-48 characters of lowercase a-z, 0-9 and _"
            ) }}
        {%- endif -%}
        {%- if tenant_platform == platform -%}
            {%- do tenant_ids.append(tenant_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tenant_ids) }}
{% endmacro %}
