with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_fields') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as ticket_field_id,

        ---------- strings
        type as field_type,
        title as field_title,

        ---------- numerics
        position as field_position,

        ---------- booleans
        is_active,
        is_custom,
        values_loaded as are_values_loaded,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
