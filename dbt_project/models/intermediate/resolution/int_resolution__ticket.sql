-- Solves, reopens and resolution times per ticket. A solve event is a status change to solved;
-- a reopen is a status change from solved back to new, open, pending or hold (closed is not a
-- reopen). The final solve counts only while the ticket is still solved or closed.
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

final as (

    select
        tenant_id,
        ticket_id,
        created_at,
        status,
        is_deleted,
        first_solved_at,
        last_solved_at,
        final_solved_at,
        {{ deskpulse.minutes_between('created_at', 'first_solved_at') }} as first_resolution_minutes,
        {{ deskpulse.minutes_between('created_at', 'final_solved_at') }} as full_resolution_minutes,
        solves,
        reopens,
        agent_replies,
        coalesce(status in ('solved', 'closed') and agent_replies = 1, false) as is_one_touch,
        refreshed_at
    from joined

)

select * from final
