-- Business-hours schedules with their IANA time zone and which one is the tenant's default.
-- Zendesk names zones in Rails vocabulary (`Amsterdam`); the rails_time_zones seed maps them.

with

schedules as (

    select * from {{ ref('stg_zendesk__schedules') }}

),

rails_time_zones as (

    select rails_time_zone, iana_time_zone from {{ ref('rails_time_zones') }}

),

tenant_time_zones as (

    select tenant_id, default_schedule_id from {{ ref('int_tenant_time_zones__tenant') }}

),

final as (

    select
        schedules.tenant_id,
        schedules.schedule_id,
        schedules.rails_time_zone,
        -- an unknown Rails name falls back to UTC; the not_null test on iana_time_zone warns
        coalesce(rails_time_zones.iana_time_zone, 'UTC') as time_zone,
        rails_time_zones.iana_time_zone,
        coalesce(schedules.schedule_id = tenant_time_zones.default_schedule_id, false)
            as is_default_schedule
    from schedules
    left join rails_time_zones
        on schedules.rails_time_zone = rails_time_zones.rails_time_zone
    left join tenant_time_zones
        on schedules.tenant_id = tenant_time_zones.tenant_id

)

select * from final
