-- One row per tenant and agent (docs/metrics.md: anyone who was ever an agent or admin, or ever a
-- ticket's assignee): the key, never a name; the role and active flag of the latest version of
-- the user, or `is_referenced_only` when no user record was loaded; and when their credited
-- work (every activity row: replies, notes, updates, (re)assignments, solves, ratings; on
-- tickets not deleted) was first and last seen.

with

agents as (

    select * from {{ ref('int_users__user') }}
    where is_agent

),

groups as (

    select tenant_id, group_id, group_key from {{ ref('stg_zendesk__groups') }}

),

work as (

    select
        tenant_id,
        agent_id,
        min(activity_at) as first_seen_at,
        max(activity_at) as last_seen_at
    from {{ ref('int_ticket_activity__activity') }}
    where not is_ticket_deleted
        and agent_id is not null
    group by tenant_id, agent_id

),

final as (

    select
        cast(agents.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(agents.user_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(agents.latest_role as {{ deskpulse.warehouse_type('varchar') }}) as latest_role,
        cast(
            coalesce(agents.is_active and agents.latest_role in ('agent', 'admin'), false) as boolean
        ) as is_active,
        cast(agents.is_referenced_only as boolean) as is_referenced_only,
        cast(agents.had_agent_role as boolean) as had_agent_role,
        cast(agents.was_assignee as boolean) as was_assignee,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as default_group_key,
        cast(work.first_seen_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as first_seen_at,
        cast(work.last_seen_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as last_seen_at
    from agents
    left join groups
        on agents.tenant_id = groups.tenant_id
        and agents.default_group_id = groups.group_id
    left join work
        on agents.tenant_id = work.tenant_id
        and agents.user_id = work.agent_id

)

select * from final
