-- Solves, reopens and resolution times per ticket. A solve event is a status change to solved;
-- a reopen is a status change from solved back to new, open, pending or hold (closed is not a
-- reopen). The final solve counts only while the ticket is still solved or closed.

with

tickets as (

    select tenant_id, ticket_id, created_at, status from {{ ref('stg_zendesk__tickets') }}

),

timeline as (

    select * from {{ ref('int_ticket_timeline__event') }}

),

reply_times as (

    select tenant_id, ticket_id, agent_replies from {{ ref('int_reply_times__ticket') }}

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
        coalesce(reply_times.agent_replies, 0) as agent_replies
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
        {{ minutes_between('created_at', 'first_solved_at') }} as first_resolution_minutes,
        {{ minutes_between('created_at', 'final_solved_at') }} as full_resolution_minutes,
        solves,
        reopens,
        agent_replies,
        (status in ('solved', 'closed') and agent_replies = 1) as is_one_touch
    from joined

)

select * from final
