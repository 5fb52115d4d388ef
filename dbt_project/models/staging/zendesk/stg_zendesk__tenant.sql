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
        retention_days

    from source

)

select * from renamed
