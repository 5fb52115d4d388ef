{#
    Wall-clock time in a time zone (IANA name, a column or a quoted literal) of a UTC
    `timestamp with time zone`, as a timestamp without time zone. `tenant_date` takes its date:
    the tenant day of docs/metrics.md.
#}
{% macro to_tenant_local(timestamp_utc, time_zone) %}
    {{ return(adapter.dispatch('to_tenant_local', 'deskpulse')(timestamp_utc, time_zone)) }}
{% endmacro %}

{% macro default__to_tenant_local(timestamp_utc, time_zone) -%}
    ({{ timestamp_utc }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro duckdb__to_tenant_local(timestamp_utc, time_zone) -%}
    timezone({{ time_zone }}, {{ timestamp_utc }})
{%- endmacro %}

{% macro postgres__to_tenant_local(timestamp_utc, time_zone) -%}
    ({{ timestamp_utc }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro spark__to_tenant_local(timestamp_utc, time_zone) -%}
    from_utc_timestamp({{ timestamp_utc }}, {{ time_zone }})
{%- endmacro %}


{% macro tenant_date(timestamp_utc, time_zone) -%}
    cast({{ deskpulse.to_tenant_local(timestamp_utc, time_zone) }} as date)
{%- endmacro %}
