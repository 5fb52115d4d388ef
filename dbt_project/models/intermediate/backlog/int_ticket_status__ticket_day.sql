-- Each ticket's status at the end of every tenant day on which it had an audit, and whether it
-- was created, solved or reopened that day. `open_change` is +1 on the day a ticket enters the
-- backlog (new, open, pending or hold at the day's end, not before), -1 on the day it leaves
-- it, else 0, so the backlog of any day is the running sum of the changes up to that day.
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

    select timeline.*, changed.refreshed_at as changed_at
    from {{ ref('int_ticket_timeline__audit') }} as timeline
    inner join changed
        on timeline.tenant_id = changed.tenant_id
        and timeline.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('timeline', since) }}

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

day_end_status as (

    select
        days.*,
        timeline.status_after as status_at_day_end,
        coalesce(timeline.status_after in ('new', 'open', 'pending', 'hold'), false) as is_open_at_day_end
    from days
    inner join timeline
        on days.tenant_id = timeline.tenant_id
        and days.ticket_id = timeline.ticket_id
        and days.last_audit_sequence = timeline.audit_sequence

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
        solved_tickets,
        reopened_tickets,
        is_ticket_deleted,
        refreshed_at
    from day_end_status

)

select * from final
