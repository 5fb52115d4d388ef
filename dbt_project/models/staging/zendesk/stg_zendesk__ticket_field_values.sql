with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_field_values') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        ticket_id,
        field_id as ticket_field_id,

        ---------- strings
        value as field_value

    from source

)

select * from renamed
