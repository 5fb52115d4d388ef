-- A fingerprint of everything per tenant that shapes every ticket's figures or rows at once: the
-- zone of the tenant day, the default schedule, every schedule's zone, hours and holidays, the
-- groups' keys and names, the brands' names, the SLA policies' titles and where the loaded history begins (the tenant's
-- start_date, and its tenant day). When it changes, every ticket of the tenant is recomputed
-- (incremental builds, int_ticket_changes__ticket), so no incremental mart keeps a group or
-- brand name or a policy title the account has since changed.

{%- set text = dbt.type_string() %}

with

tenant_time_zones as (

    select * from {{ ref('int_tenant_time_zones__tenant') }}

),

histories as (

    select tenant_id, history_starts_at from {{ ref('stg_zendesk__tenant') }}

),

schedules as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(schedule_id as " ~ text ~ ") || ':' || time_zone",
            "','",
            "order by schedule_id"
        ) }} as schedules_text
    from {{ ref('int_schedules__schedule') }}
    group by tenant_id

),

intervals as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(schedule_id as " ~ text ~ ") || ':' || cast(start_minute_of_week as " ~ text
            ~ ") || '-' || cast(end_minute_of_week as " ~ text ~ ")",
            "','",
            "order by schedule_id, start_minute_of_week, end_minute_of_week"
        ) }} as intervals_text
    from {{ ref('stg_zendesk__schedule_intervals') }}
    group by tenant_id

),

holidays as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(schedule_id as " ~ text ~ ") || ':' || cast(holiday_start_date as " ~ text
            ~ ") || '-' || cast(holiday_end_date as " ~ text ~ ")",
            "','",
            "order by schedule_id, holiday_start_date, holiday_end_date"
        ) }} as holidays_text
    from {{ ref('stg_zendesk__schedule_holidays') }}
    group by tenant_id

),

groups as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(group_id as " ~ text ~ ") || ':' || coalesce(group_key, '') || ':' || coalesce(group_name, '')",
            "','",
            "order by group_id"
        ) }} as groups_text
    from {{ ref('stg_zendesk__groups') }}
    group by tenant_id

),

brands as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(brand_id as " ~ text ~ ") || ':' || coalesce(brand_name, '')",
            "','",
            "order by brand_id"
        ) }} as brands_text
    from {{ ref('stg_zendesk__brands') }}
    group by tenant_id

),

sla_policies as (

    select
        tenant_id,
        {{ dbt.listagg(
            "cast(sla_policy_id as " ~ text ~ ") || ':' || coalesce(sla_policy_title, '')",
            "','",
            "order by sla_policy_id"
        ) }} as sla_policies_text
    from {{ ref('stg_zendesk__sla_policies') }}
    group by tenant_id

),

final as (

    select
        tenant_time_zones.tenant_id,
        tenant_time_zones.time_zone,
        tenant_time_zones.default_schedule_id,
        histories.history_starts_at,
        {{ deskpulse.tenant_date('histories.history_starts_at', 'tenant_time_zones.time_zone') }}
            as history_start_date,
        {{ dbt.hash(
            "tenant_time_zones.time_zone"
            ~ " || '|' || coalesce(cast(tenant_time_zones.default_schedule_id as " ~ text ~ "), '')"
            ~ " || '|' || coalesce(schedules.schedules_text, '')"
            ~ " || '|' || coalesce(intervals.intervals_text, '')"
            ~ " || '|' || coalesce(holidays.holidays_text, '')"
            ~ " || '|' || coalesce(groups.groups_text, '')"
            ~ " || '|' || coalesce(brands.brands_text, '')"
            ~ " || '|' || coalesce(sla_policies.sla_policies_text, '')"
            ~ " || '|' || coalesce(cast(histories.history_starts_at as " ~ text ~ "), '')"
        ) }} as settings_fingerprint
    from tenant_time_zones
    left join schedules
        on tenant_time_zones.tenant_id = schedules.tenant_id
    left join intervals
        on tenant_time_zones.tenant_id = intervals.tenant_id
    left join holidays
        on tenant_time_zones.tenant_id = holidays.tenant_id
    left join groups
        on tenant_time_zones.tenant_id = groups.tenant_id
    left join brands
        on tenant_time_zones.tenant_id = brands.tenant_id
    left join sla_policies
        on tenant_time_zones.tenant_id = sla_policies.tenant_id
    left join histories
        on tenant_time_zones.tenant_id = histories.tenant_id

)

select * from final
