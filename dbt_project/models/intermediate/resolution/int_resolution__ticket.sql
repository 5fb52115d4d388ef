-- Solves, reopens and resolution times per ticket. A solve event is a status change to solved;
-- a reopen is a status change from solved back to new, open, pending or hold (closed is not a
-- reopen). The final solve counts only while the ticket is still solved or closed. Until it,
-- the requester's wait (the time in new, open or on-hold) and the agents' work time (new or
-- open), as Zendesk defines them, counted from the audits' statuses.
-- Incremental by ticket.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}

with

changed as (

    {{ deskpulse.changed_tickets(since) }}

),

tickets as (

    select tickets.tenant_id, tickets.ticket_id, tickets.created_at, tickets.status, changed.refreshed_at
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join changed
        on tickets.tenant_id = changed.tenant_id
        and tickets.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('tickets', since) }}

),

timeline as (

    select timeline.*
    from {{ ref('int_ticket_timeline__audit') }} as timeline
    inner join changed
        on timeline.tenant_id = changed.tenant_id
        and timeline.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('timeline', since) }}
    where timeline.is_solve_event
        or timeline.is_reopen_event

),

status_periods as (

    -- each audit's status and how long it held (until the next audit), where it keeps a clock
    -- running, and the creating audit: without it, the ticket's start is not loaded
    select
        timeline.tenant_id,
        timeline.ticket_id,
        timeline.created_at as period_start,
        {{ dbt.datediff('timeline.created_at', 'timeline.next_audit_at', 'second') }} as seconds,
        timeline.status_after,
        timeline.is_creating_audit
    from {{ ref('int_ticket_timeline__audit') }} as timeline
    inner join changed
        on timeline.tenant_id = changed.tenant_id
        and timeline.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('timeline', since) }}
    where timeline.status_after in ('new', 'open', 'hold')
        or timeline.is_creating_audit

),

reply_times as (

    select reply_times.tenant_id, reply_times.ticket_id, reply_times.agent_replies
    from {{ ref('int_reply_times__ticket') }} as reply_times
    inner join changed
        on reply_times.tenant_id = changed.tenant_id
        and reply_times.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('reply_times', since) }}

),

solve_events as (

    select
        tenant_id,
        ticket_id,
        min(created_at) as first_solved_at,
        max(created_at) as last_solved_at,
        count(*) as solves
    from timeline
    where is_solve_event
    group by tenant_id, ticket_id

),

reopen_events as (

    select
        tenant_id,
        ticket_id,
        count(*) as reopens
    from timeline
    where is_reopen_event
    group by tenant_id, ticket_id

),

joined as (

    select
        tickets.tenant_id,
        tickets.ticket_id,
        tickets.created_at,
        tickets.status,
        coalesce(tickets.status = 'deleted', false) as is_deleted,
        solve_events.first_solved_at,
        solve_events.last_solved_at,
        case
            when tickets.status in ('solved', 'closed') then solve_events.last_solved_at
        end as final_solved_at,
        coalesce(solve_events.solves, 0) as solves,
        coalesce(reopen_events.reopens, 0) as reopens,
        coalesce(reply_times.agent_replies, 0) as agent_replies,
        tickets.refreshed_at
    from tickets
    left join solve_events
        on tickets.tenant_id = solve_events.tenant_id
        and tickets.ticket_id = solve_events.ticket_id
    left join reopen_events
        on tickets.tenant_id = reopen_events.tenant_id
        and tickets.ticket_id = reopen_events.ticket_id
    left join reply_times
        on tickets.tenant_id = reply_times.tenant_id
        and tickets.ticket_id = reply_times.ticket_id

),

status_time as (

    -- the periods before the final solve (an audit: every period before it ends by then), in
    -- whole seconds, so that the sums are exact
    select
        joined.tenant_id,
        joined.ticket_id,
        sum(case
            when periods.status_after in ('new', 'open', 'hold') then periods.seconds
            else 0
        end) / 60.0 as requester_wait_minutes,
        sum(case
            when periods.status_after in ('new', 'open') then periods.seconds
            else 0
        end) / 60.0 as agent_work_minutes
    from joined
    inner join status_periods as periods
        on joined.tenant_id = periods.tenant_id
        and joined.ticket_id = periods.ticket_id
        and periods.period_start < joined.final_solved_at
    group by joined.tenant_id, joined.ticket_id
    having {{ dbt.bool_or('periods.is_creating_audit') }}

),

final as (

    select
        joined.tenant_id,
        joined.ticket_id,
        joined.created_at,
        joined.status,
        joined.is_deleted,
        joined.first_solved_at,
        joined.last_solved_at,
        joined.final_solved_at,
        {{ deskpulse.minutes_between('joined.created_at', 'joined.first_solved_at') }}
            as first_resolution_minutes,
        {{ deskpulse.minutes_between('joined.created_at', 'joined.final_solved_at') }}
            as full_resolution_minutes,
        status_time.requester_wait_minutes,
        status_time.agent_work_minutes,
        joined.solves,
        joined.reopens,
        joined.agent_replies,
        coalesce(joined.status in ('solved', 'closed') and joined.agent_replies = 1, false)
            as is_one_touch,
        joined.refreshed_at
    from joined
    left join status_time
        on joined.tenant_id = status_time.tenant_id
        and joined.ticket_id = status_time.ticket_id

)

select * from final
