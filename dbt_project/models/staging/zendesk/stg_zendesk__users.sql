with

source as (

    {{ union_tenant_sources('zendesk', 'users') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as user_id,
        user_key,
        default_group_id,
        organization_id,

        ---------- strings
        role as user_role,
        time_zone as rails_time_zone,
        name_token,
        email_token,
        phone_token,

        ---------- booleans
        active as is_active,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
