with

source as (

    {{ union_tenant_sources('zendesk', 'ticket_metrics') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as ticket_metric_id,
        ticket_id,

        ---------- numerics
        group_stations,
        assignee_stations,
        reopens,
        replies,
        reply_time_in_minutes_calendar as reply_time_calendar_minutes,
        reply_time_in_minutes_business as reply_time_business_minutes,
        first_resolution_time_in_minutes_calendar as first_resolution_time_calendar_minutes,
        first_resolution_time_in_minutes_business as first_resolution_time_business_minutes,
        full_resolution_time_in_minutes_calendar as full_resolution_time_calendar_minutes,
        full_resolution_time_in_minutes_business as full_resolution_time_business_minutes,
        agent_wait_time_in_minutes_calendar as agent_wait_time_calendar_minutes,
        agent_wait_time_in_minutes_business as agent_wait_time_business_minutes,
        requester_wait_time_in_minutes_calendar as requester_wait_time_calendar_minutes,
        requester_wait_time_in_minutes_business as requester_wait_time_business_minutes,
        on_hold_time_in_minutes_calendar as on_hold_time_calendar_minutes,
        on_hold_time_in_minutes_business as on_hold_time_business_minutes,

        ---------- timestamps
        created_at,
        updated_at,
        assignee_updated_at,
        requester_updated_at,
        status_updated_at,
        initially_assigned_at,
        assigned_at,
        solved_at,
        latest_comment_added_at

    from source

)

select * from renamed
