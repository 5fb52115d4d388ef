with

source as (

    {{ union_tenant_sources('zendesk', 'tickets') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as ticket_id,
        requester_id,
        submitter_id,
        assignee_id,
        group_id,
        organization_id,
        brand_id,

        ---------- keys
        requester_key,
        submitter_key,
        assignee_key,

        ---------- strings
        status,
        priority,
        type as ticket_type,
        via_channel,

        ---------- numerics
        generated_timestamp,

        ---------- booleans
        is_public,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
