-- The time zone that defines each tenant's day: the tenant config's IANA zone, else the zone of
-- the tenant's default business-hours schedule (a Rails name, mapped to IANA), else UTC. One row
-- per configured tenant.

with

tenant_configs as (

    select
        tenant_id,
        nullif(time_zone, '') as time_zone
    from {{ ref('stg_zendesk__tenant') }}

),

schedules as (

    select
        tenant_id,
        schedule_id,
        rails_time_zone
    from {{ ref('stg_zendesk__schedules') }}

),

rails_time_zones as (

    select
        rails_time_zone,
        iana_time_zone
    from {{ ref('rails_time_zones') }}

),

tenants as (

    -- every configured tenant (the `tenants` var), loaded or not: the tenant list comes from
    -- the configuration, not from the tickets, so the tenant models rebuild only when a
    -- tenant's settings do
    {%- for tenant_id in deskpulse.configured_tenants() %}
    select cast('{{ tenant_id }}' as {{ dbt.type_string() }}) as tenant_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as tenant_id
    where 1 = 0
    {%- endfor %}

),

ranked_schedules as (

    -- Zendesk's default schedule is the first one its API lists. The raw contract keeps no list
    -- position, so the lowest id (the oldest schedule) stands in for it (DECISIONLOG.md).
    select
        tenant_id,
        schedule_id,
        rails_time_zone,
        row_number() over (partition by tenant_id order by schedule_id) as schedule_rank
    from schedules

),

default_schedules as (

    select
        ranked_schedules.tenant_id,
        ranked_schedules.schedule_id,
        ranked_schedules.rails_time_zone,
        rails_time_zones.iana_time_zone
    from ranked_schedules
    left join rails_time_zones
        on ranked_schedules.rails_time_zone = rails_time_zones.rails_time_zone
    where ranked_schedules.schedule_rank = 1

),

final as (

    select
        tenants.tenant_id,
        coalesce(
            tenant_configs.time_zone,
            default_schedules.iana_time_zone,
            'UTC'
        ) as time_zone,
        case
            when tenant_configs.time_zone is not null then 'tenant_config'
            when default_schedules.iana_time_zone is not null then 'default_schedule'
            else 'utc_fallback'
        end as time_zone_source,
        default_schedules.schedule_id as default_schedule_id,
        default_schedules.rails_time_zone as default_schedule_rails_time_zone,
        default_schedules.iana_time_zone as default_schedule_time_zone
    from tenants
    left join tenant_configs
        on tenants.tenant_id = tenant_configs.tenant_id
    left join default_schedules
        on tenants.tenant_id = default_schedules.tenant_id

)

select * from final
