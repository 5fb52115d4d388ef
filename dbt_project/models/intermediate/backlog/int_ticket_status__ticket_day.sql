-- Each ticket's status at the end of every tenant day on which it had an audit, and whether it
-- was created, solved or reopened that day. `open_change` is +1 on the day a ticket enters the
-- backlog (new, open, pending or hold at the day's end, not before), -1 on the day it leaves
-- it, else 0, so the backlog of any day is the running sum of the changes up to that day.
--
-- A ticket created before the loaded history began (the tenant's start_date; its creating
-- audit was never loaded) is carried in: it enters on the history's first tenant day with the
-- status it had then (what its first loaded status change changed from, else its status
-- today), counted in `carried_in_tickets`, never in `created_tickets` (DECISIONLOG.md).
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

timeline as (

    select
        timeline.tenant_id,
        timeline.ticket_id,
        timeline.audit_sequence,
        timeline.created_date,
        timeline.is_creating_audit,
        timeline.is_solve_event,
        timeline.is_reopen_event,
        timeline.is_ticket_deleted,
        timeline.status_before,
        timeline.status_after,
        changed.refreshed_at as changed_at
    from {{ ref('int_ticket_timeline__audit') }} as timeline
    inner join changed
        on timeline.tenant_id = changed.tenant_id
        and timeline.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('timeline', since) }}

),

histories as (

    select tenant_id, history_start_date from {{ ref('int_tenant_settings__tenant') }}

),

days as (

    select
        tenant_id,
        ticket_id,
        created_date as status_date,
        max(audit_sequence) as last_audit_sequence,
        max(case when is_creating_audit then 1 else 0 end) as created_tickets,
        max(case when is_solve_event then 1 else 0 end) as solved_tickets,
        max(case when is_reopen_event then 1 else 0 end) as reopened_tickets,
        {{ dbt.bool_or('is_ticket_deleted') }} as is_ticket_deleted,
        max(changed_at) as refreshed_at
    from timeline
    group by tenant_id, ticket_id, created_date

),

carried_in as (

    -- tickets whose first loaded audit did not create them, and the day they enter: the
    -- history's first day (or their first loaded day, if a backfill reached further back)
    select
        timeline.tenant_id,
        timeline.ticket_id,
        timeline.created_date as first_loaded_date,
        case
            when histories.history_start_date < timeline.created_date
                then histories.history_start_date
            else timeline.created_date
        end as carried_in_date,
        timeline.is_ticket_deleted,
        timeline.changed_at as refreshed_at
    from timeline
    left join histories
        on timeline.tenant_id = histories.tenant_id
    where timeline.audit_sequence = 1
        and not timeline.is_creating_audit

),

first_status_changes as (

    select timeline.tenant_id, timeline.ticket_id, min(timeline.audit_sequence) as audit_sequence
    from timeline
    inner join carried_in
        on timeline.tenant_id = carried_in.tenant_id
        and timeline.ticket_id = carried_in.ticket_id
    where timeline.status_before is not null
    group by timeline.tenant_id, timeline.ticket_id

),

opening_statuses as (

    -- the status a carried-in ticket had before its first loaded audit
    select
        carried_in.*,
        coalesce(timeline.status_before, tickets.status) as opening_status
    from carried_in
    left join first_status_changes
        on carried_in.tenant_id = first_status_changes.tenant_id
        and carried_in.ticket_id = first_status_changes.ticket_id
    left join timeline
        on first_status_changes.tenant_id = timeline.tenant_id
        and first_status_changes.ticket_id = timeline.ticket_id
        and first_status_changes.audit_sequence = timeline.audit_sequence
    left join {{ ref('stg_zendesk__tickets') }} as tickets
        on carried_in.tenant_id = tickets.tenant_id
        and carried_in.ticket_id = tickets.ticket_id

),

day_end_status as (

    select
        days.tenant_id,
        days.ticket_id,
        days.status_date,
        -- before a carried-in ticket's first loaded status event, the status it came in with
        coalesce(timeline.status_after, opening_statuses.opening_status) as status_at_day_end,
        days.created_tickets,
        case when days.status_date = opening_statuses.carried_in_date then 1 else 0 end
            as carried_in_tickets,
        days.solved_tickets,
        days.reopened_tickets,
        days.is_ticket_deleted,
        days.refreshed_at
    from days
    inner join timeline
        on days.tenant_id = timeline.tenant_id
        and days.ticket_id = timeline.ticket_id
        and days.last_audit_sequence = timeline.audit_sequence
    left join opening_statuses
        on days.tenant_id = opening_statuses.tenant_id
        and days.ticket_id = opening_statuses.ticket_id

    union all

    -- a carried-in ticket's day of entry, when it had no audit that day
    select
        tenant_id,
        ticket_id,
        carried_in_date,
        opening_status,
        0,
        1,
        0,
        0,
        is_ticket_deleted,
        refreshed_at
    from opening_statuses
    where carried_in_date < first_loaded_date

),

flagged as (

    select
        *,
        coalesce(status_at_day_end in ('new', 'open', 'pending', 'hold'), false) as is_open_at_day_end
    from day_end_status

),

final as (

    select
        tenant_id,
        ticket_id,
        status_date,
        status_at_day_end,
        is_open_at_day_end,
        (case when is_open_at_day_end then 1 else 0 end)
            - (case when coalesce(lag(is_open_at_day_end) over (
                partition by tenant_id, ticket_id
                order by status_date
            ), false) then 1 else 0 end) as open_change,
        created_tickets,
        carried_in_tickets,
        solved_tickets,
        reopened_tickets,
        is_ticket_deleted,
        refreshed_at
    from flagged

)

select * from final
