with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_tags') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        ticket_id,

        ---------- strings
        tag

    from source

)

select * from renamed
