with

source as (

    {{ union_tenant_sources('zendesk', 'groups') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as group_id,
        group_key,

        ---------- strings
        name as group_name,

        ---------- booleans
        is_deleted,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
