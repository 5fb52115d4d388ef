with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_metric_events') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as ticket_metric_event_id,
        ticket_id,
        sla_policy_id,

        ---------- strings
        metric,
        type as metric_event_type,

        ---------- numerics
        instance_id,
        sla_target_minutes,
        status_calendar_minutes,
        status_business_minutes,

        ---------- booleans
        sla_business_hours as is_sla_business_hours,
        is_deleted,

        ---------- timestamps
        {{ adapter.quote("time") }} as occurred_at

    from source

)

select * from renamed
