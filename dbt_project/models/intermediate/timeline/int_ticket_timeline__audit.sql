-- Every audit of every ticket in order, with the ticket's state once the audit is applied.
--
-- Zendesk records each update of a ticket as one audit: one author, one instant, at most one
-- comment and at most one change per field (the yml tests hold raw to that). Working at audit
-- grain keeps "after the audit" exact (a reassign-and-solve credits the new assignee whatever
-- the order of the child events) and needs a third of the rows of the event grain. Audits are
-- ordered by time, then audit id. Incremental by ticket (macros/incremental/changed_tickets.sql).

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

-- the events read: all but the creation of fields the timeline does not follow (a creating
-- audit keeps its status, assignee and group, so it keeps a row); the changed tickets are
-- joined once the events are audits, a third of the rows
ticket_events as (

    select ticket_events.*
    from {{ ref('stg_zendesk__ticket_events') }} as ticket_events
    where {{ deskpulse.in_changed_tickets('ticket_events', since) }}
        and (
            ticket_events.event_type is distinct from 'Create'
            or ticket_events.field_name in ('status', 'assignee_id', 'group_id')
        )

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

-- one row per audit, in narrow columns (flags, counts and ids): the aggregate holds every audit
-- at once (millions at a million tickets). 0 marks an assignee or group "set to nobody" (Zendesk
-- ids are positive), so that an unassignment stays in force
audits as (

    select
        tenant_id,
        ticket_id,
        audit_id,
        min(created_at) as created_at,
        max(updater_id) as updater_id,
        coalesce({{ dbt.bool_or("event_type = 'Create'") }}, false) as is_creating_audit,
        sum(case when event_type = 'Comment' then 1 else 0 end) as comment_events,
        max(case when event_type = 'Comment' then author_id end) as comment_author_id,
        coalesce({{ dbt.bool_or("event_type = 'Comment' and is_public") }}, false)
            as is_public_comment,
        sum(case when field_name = 'status' then 1 else 0 end) as status_events,
        max(case when field_name = 'status' then field_value end) as status_set,
        coalesce({{ dbt.bool_or("field_name = 'status' and event_type = 'Change'") }}, false)
            as is_status_change,
        max(case when field_name = 'status' and event_type = 'Change' then previous_field_value end)
            as status_before,
        max(case when field_name = 'assignee_id' then cast(coalesce(field_value, '0') as bigint) end)
            as assignee_set,
        max(case when field_name = 'group_id' then cast(coalesce(field_value, '0') as bigint) end)
            as group_set
    from ticket_events
    group by tenant_id, ticket_id, audit_id

),

-- the ticket's state once each audit is applied: the last status, assignee and group set up to
-- it; every window here shares one partition and order, so the audits are sorted once
{%- set ticket_audits = 'audits.tenant_id, audits.ticket_id' %}
{%- set audit_order = 'audits.created_at, audits.audit_id' %}
in_force as (

    select
        audits.*,
        changed.refreshed_at,
        row_number() over (partition by {{ ticket_audits }} order by {{ audit_order }})
            as audit_sequence,
        {%- for column, value, before_row in [
            ('status_after', 'status_set', false),
            ('assignee_after', 'assignee_set', false),
            ('group_after', 'group_set', false),
            ('assignee_before', 'assignee_set', true),
        ] %}
        {{ deskpulse.last_value_ignore_nulls(
            'audits.' ~ value, ticket_audits, audit_order, before_row=before_row
        ) }} as {{ column }},
        {%- endfor %}
        -- until when the status after the audit held
        lead(audits.created_at) over (partition by {{ ticket_audits }} order by {{ audit_order }})
            as next_audit_at
    from audits
    inner join changed
        on audits.tenant_id = changed.tenant_id
        and audits.ticket_id = changed.ticket_id

),

flagged as (

    select
        in_force.tenant_id,
        in_force.ticket_id,
        in_force.audit_id,
        in_force.audit_sequence,
        in_force.created_at,
        {{ deskpulse.tenant_date(
            'in_force.created_at',
            "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as created_date,
        in_force.updater_id,
        in_force.comment_author_id,
        in_force.is_creating_audit,
        in_force.is_public_comment,
        coalesce(users.is_agent, false) as is_agent_comment_author,
        coalesce(updaters.is_agent, false) as is_agent_update,
        in_force.status_set,
        in_force.status_before,
        in_force.status_after,
        in_force.next_audit_at,
        nullif(in_force.assignee_after, 0) as assignee_id_after_audit,
        nullif(in_force.assignee_before, 0) as assignee_id_before_audit,
        nullif(in_force.group_after, 0) as group_id_after_audit,
        coalesce(in_force.is_status_change and in_force.status_set = 'solved', false)
            as is_solve_event,
        coalesce(
            in_force.is_status_change
            and in_force.status_before = 'solved'
            and in_force.status_set in ('new', 'open', 'pending', 'hold'),
            false
        ) as is_reopen_event,
        coalesce(tickets.status = 'deleted', false) as is_ticket_deleted,
        in_force.comment_events,
        in_force.status_events,
        in_force.refreshed_at
    from in_force
    left join users
        on in_force.tenant_id = users.tenant_id
        and in_force.comment_author_id = users.user_id
    left join users as updaters
        on in_force.tenant_id = updaters.tenant_id
        and in_force.updater_id = updaters.user_id
    left join tickets
        on in_force.tenant_id = tickets.tenant_id
        and in_force.ticket_id = tickets.ticket_id
    left join tenant_time_zones
        on in_force.tenant_id = tenant_time_zones.tenant_id

),

final as (

    select
        tenant_id,
        ticket_id,
        audit_id,
        audit_sequence,
        created_at,
        created_date,
        updater_id,
        comment_author_id,
        is_creating_audit,
        is_public_comment,
        is_agent_comment_author,
        is_agent_update,
        -- internal note: a private comment by an agent
        coalesce(comment_events > 0 and not is_public_comment and is_agent_comment_author, false)
            as is_internal_note,
        -- end user: anyone not an agent, except Zendesk's system author (-1, triggers)
        coalesce(
            is_public_comment and not is_agent_comment_author and comment_author_id <> -1,
            false
        ) as is_public_end_user_comment,
        -- public agent reply: not the comment that created the ticket
        coalesce(is_public_comment and is_agent_comment_author and not is_creating_audit, false)
            as is_public_agent_reply,
        status_set,
        status_before,
        status_after,
        next_audit_at,
        assignee_id_after_audit,
        assignee_id_before_audit,
        group_id_after_audit,
        is_solve_event,
        is_reopen_event,
        is_ticket_deleted,
        comment_events,
        status_events,
        refreshed_at
    from flagged

)

select * from final
