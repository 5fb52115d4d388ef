{#
    The UTC instant of a wall-clock time in a time zone: the inverse of to_tenant_local.
    `local_timestamp` is a timestamp without time zone, `time_zone` an IANA name (a column or a
    quoted literal); the result is a `timestamp with time zone`. Daylight saving follows the
    engine's time-zone rules; a wall time inside a spring-forward gap is resolved as each engine
    resolves it (DECISIONLOG.md, business hours).
#}
{% macro from_tenant_local(local_timestamp, time_zone) %}
    {{ return(adapter.dispatch('from_tenant_local', 'deskpulse')(local_timestamp, time_zone)) }}
{% endmacro %}

{% macro default__from_tenant_local(local_timestamp, time_zone) -%}
    ({{ local_timestamp }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro duckdb__from_tenant_local(local_timestamp, time_zone) -%}
    timezone({{ time_zone }}, {{ local_timestamp }})
{%- endmacro %}

{% macro postgres__from_tenant_local(local_timestamp, time_zone) -%}
    ({{ local_timestamp }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro spark__from_tenant_local(local_timestamp, time_zone) -%}
    to_utc_timestamp({{ local_timestamp }}, {{ time_zone }})
{%- endmacro %}
