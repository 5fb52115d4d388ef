with

source as (

    {{ union_tenant_sources('zendesk', 'tenant') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,

        ---------- strings
        platform,
        timezone as time_zone,

        ---------- numerics
        retention_days,

        ---------- timestamps
        start_date as history_starts_at

    from source

)

select * from renamed
