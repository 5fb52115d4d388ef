-- Every ticket event in order, with the ticket's state around it: the status before and after
-- the event, the assignee in force once the event's whole audit is applied, who acted and
-- whether they are an agent, and the flags the metrics count (METRICS.md vocabulary).

with

ticket_events as (

    select * from {{ ref('stg_zendesk__ticket_events') }}

),

users as (

    select tenant_id, user_id, is_agent from {{ ref('int_users__user') }}

),

tickets as (

    select tenant_id, ticket_id, status from {{ ref('stg_zendesk__tickets') }}

),

tenant_time_zones as (

    select tenant_id, time_zone from {{ ref('int_tenant_time_zones__tenant') }}

),

sequenced as (

    select
        tenant_id,
        ticket_id,
        ticket_event_id,
        audit_id,
        created_at,
        event_type,
        field_name,
        field_value,
        previous_field_value,
        is_public,
        -- a comment's author; for field events the audit's author
        case when event_type = 'Comment' then author_id else updater_id end as author_id,
        row_number() over (
            partition by tenant_id, ticket_id
            order by created_at, audit_id, ticket_event_id
        ) as event_sequence,
        min(case when event_type = 'Create' then audit_id end) over (
            partition by tenant_id, ticket_id
        ) as creating_audit_id,
        case
            when event_type in ('Create', 'Change') and field_name = 'status' then 1 else 0
        end as sets_status,
        case
            when event_type in ('Create', 'Change') and field_name = 'assignee_id' then 1 else 0
        end as sets_assignee
    from ticket_events

),

field_runs as (

    -- A run starts at each event that sets the field and lasts until the next one, so the
    -- value in force is the one set at the start of the run (no `ignore nulls` needed).
    select
        *,
        sum(sets_status) over (
            partition by tenant_id, ticket_id
            order by event_sequence
            rows between unbounded preceding and current row
        ) as status_run,
        sum(sets_assignee) over (
            partition by tenant_id, ticket_id
            order by event_sequence
            rows between unbounded preceding and current row
        ) as assignee_run
    from sequenced

),

field_states as (

    select
        *,
        max(case when sets_status = 1 then field_value end) over (
            partition by tenant_id, ticket_id, status_run
        ) as status_after,
        max(case when sets_assignee = 1 then nullif(field_value, '') end) over (
            partition by tenant_id, ticket_id, assignee_run
        ) as assignee_after_event
    from field_runs

),

audit_states as (

    select
        *,
        lag(status_after) over (
            partition by tenant_id, ticket_id
            order by event_sequence
        ) as status_before,
        -- the assignee after the last event of the same audit: all of the audit's changes applied
        first_value(assignee_after_event) over (
            partition by tenant_id, ticket_id, audit_id
            order by event_sequence desc
            rows between unbounded preceding and unbounded following
        ) as assignee_after_audit
    from field_states

),

flagged as (

    select
        audit_states.tenant_id,
        audit_states.ticket_id,
        audit_states.ticket_event_id,
        audit_states.audit_id,
        audit_states.event_sequence,
        audit_states.created_at,
        {{ tenant_date(
            'audit_states.created_at',
            "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as created_date,
        audit_states.event_type,
        audit_states.field_name,
        audit_states.field_value,
        audit_states.previous_field_value,
        audit_states.author_id,
        coalesce(users.is_agent, false) as is_agent_author,
        coalesce(audit_states.audit_id = audit_states.creating_audit_id, false)
            as is_creating_audit,
        audit_states.status_before,
        audit_states.status_after,
        cast(audit_states.assignee_after_audit as bigint) as assignee_id_after_audit,
        coalesce(audit_states.event_type = 'Comment' and audit_states.is_public, false)
            as is_public_comment,
        coalesce(
            audit_states.event_type = 'Change'
            and audit_states.field_name = 'status'
            and audit_states.field_value = 'solved',
            false
        ) as is_solve_event,
        coalesce(
            audit_states.event_type = 'Change'
            and audit_states.field_name = 'status'
            and audit_states.previous_field_value = 'solved'
            and audit_states.field_value in ('new', 'open', 'pending', 'hold'),
            false
        ) as is_reopen_event,
        coalesce(tickets.status = 'deleted', false) as is_ticket_deleted
    from audit_states
    left join users
        on audit_states.tenant_id = users.tenant_id
        and audit_states.author_id = users.user_id
    left join tickets
        on audit_states.tenant_id = tickets.tenant_id
        and audit_states.ticket_id = tickets.ticket_id
    left join tenant_time_zones
        on audit_states.tenant_id = tenant_time_zones.tenant_id

),

final as (

    select
        *,
        -- end user: anyone not an agent, except Zendesk's system author (-1, triggers)
        coalesce(is_public_comment and not is_agent_author and author_id <> -1, false)
            as is_public_end_user_comment,
        -- public agent reply: not the comment that created the ticket
        coalesce(is_public_comment and is_agent_author and not is_creating_audit, false)
            as is_public_agent_reply
    from flagged

)

select * from final
