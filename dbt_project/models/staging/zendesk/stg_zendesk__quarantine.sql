with

source as (

    {{ union_tenant_sources('zendesk', 'quarantine') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        record_key,
        record_id,
        ticket_id,

        ---------- strings
        table_name,
        reason,

        ---------- timestamps
        record_time,
        quarantined_at

    from source

)

select * from renamed
