with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_events') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as ticket_event_id,
        audit_id,
        ticket_id,
        updater_id,
        author_id,

        ---------- keys
        value_key as field_value_key,
        previous_value_key as previous_field_value_key,

        ---------- strings
        event_type,
        field_name,
        value as field_value,
        previous_value as previous_field_value,
        via_channel,

        ---------- booleans
        is_public,

        ---------- timestamps
        created_at

    from source

)

select * from renamed
