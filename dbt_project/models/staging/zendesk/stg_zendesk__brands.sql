with

source as (

    {{ union_tenant_sources('zendesk', 'brands') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as brand_id,

        ---------- strings
        name as brand_name,
        subdomain,

        ---------- booleans
        is_active,
        is_default,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
