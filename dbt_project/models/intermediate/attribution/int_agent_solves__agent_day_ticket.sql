-- Who solved what, when: one row per agent, tenant day and ticket the agent solved that day.
-- A solve is credited to the assignee in force at the solve event, after every change of the
-- same audit (a reassign-and-solve credits the new assignee), never to today's assignee.

with

timeline as (

    select * from {{ ref('int_ticket_timeline__event') }}

),

solve_events as (

    select
        tenant_id,
        ticket_id,
        assignee_id_after_audit as agent_id,
        created_date as solved_date,
        created_at,
        event_sequence,
        is_ticket_deleted
    from timeline
    where is_solve_event
        and assignee_id_after_audit is not null

),

last_reopens as (

    select
        tenant_id,
        ticket_id,
        max(event_sequence) as last_reopen_event_sequence
    from timeline
    where is_reopen_event
    group by tenant_id, ticket_id

),

agent_day_solves as (

    select
        tenant_id,
        agent_id,
        solved_date,
        ticket_id,
        count(*) as solve_events,
        max(created_at) as last_solved_at,
        max(event_sequence) as last_solve_event_sequence,
        {{ dbt.bool_or('is_ticket_deleted') }} as is_ticket_deleted
    from solve_events
    group by tenant_id, agent_id, solved_date, ticket_id

),

final as (

    select
        agent_day_solves.tenant_id,
        agent_day_solves.agent_id,
        agent_day_solves.solved_date,
        agent_day_solves.ticket_id,
        agent_day_solves.solve_events,
        agent_day_solves.last_solved_at,
        agent_day_solves.last_solve_event_sequence,
        coalesce(
            last_reopens.last_reopen_event_sequence > agent_day_solves.last_solve_event_sequence,
            false
        ) as is_reopened_after_solve,
        agent_day_solves.is_ticket_deleted
    from agent_day_solves
    left join last_reopens
        on agent_day_solves.tenant_id = last_reopens.tenant_id
        and agent_day_solves.ticket_id = last_reopens.ticket_id

)

select * from final
