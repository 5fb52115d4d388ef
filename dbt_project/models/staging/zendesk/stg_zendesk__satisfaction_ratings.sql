with

source as (

    {{ union_tenant_sources('zendesk', 'satisfaction_ratings') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as satisfaction_rating_id,
        ticket_id,
        assignee_id,
        group_id,
        requester_id,

        ---------- keys
        assignee_key,
        requester_key,

        ---------- strings
        score,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
