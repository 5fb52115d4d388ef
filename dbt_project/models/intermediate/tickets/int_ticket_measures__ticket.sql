-- One row per ticket: the ticket with every measure kept per ticket (reply, resolution, business
-- minutes, latest rating), joined on the ticket. fct_tickets adds the keys and the tenant day.
-- Two queries because DuckDB holds every hash table of a query's joins at once and does not
-- spill them: the four tables of a million rows each here, and the lookups of fct_tickets, each
-- fit in its memory bound, all of them together did not. Incremental by ticket.

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

    select tickets.*, changed.refreshed_at, changed.is_stale_upstream
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join changed
        on tickets.tenant_id = changed.tenant_id
        and tickets.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('tickets', since) }}

),

reply_times as (

    select reply_times.*
    from {{ ref('int_reply_times__ticket') }} as reply_times
    where {{ deskpulse.refreshed_rows('reply_times', since) }}

),

resolution as (

    select resolution.*
    from {{ ref('int_resolution__ticket') }} as resolution
    where {{ deskpulse.refreshed_rows('resolution', since) }}

),

business_minutes as (

    select business_minutes.*
    from {{ ref('int_business_minutes__ticket') }} as business_minutes
    where {{ deskpulse.refreshed_rows('business_minutes', since) }}

),

latest_ratings as (

    select ratings.tenant_id, ratings.ticket_id, ratings.score
    from {{ ref('int_satisfaction_ratings__rating') }} as ratings
    where ratings.is_latest_rating
        and {{ deskpulse.refreshed_rows('ratings', since) }}

),

final as (

    select
        tickets.tenant_id,
        tickets.ticket_id,
        tickets.created_at,
        tickets.status,
        tickets.via_channel,
        tickets.priority,
        tickets.ticket_type,
        tickets.brand_id,
        tickets.requester_id,
        tickets.assignee_id,
        tickets.group_id,
        business_minutes.schedule_id,
        reply_times.first_reply_at,
        reply_times.first_reply_minutes,
        business_minutes.first_reply_business_minutes,
        reply_times.first_reply_agent_id,
        resolution.first_solved_at,
        resolution.final_solved_at,
        resolution.first_resolution_minutes,
        business_minutes.first_resolution_business_minutes,
        resolution.full_resolution_minutes,
        business_minutes.full_resolution_business_minutes,
        resolution.requester_wait_minutes,
        resolution.agent_work_minutes,
        resolution.agent_replies,
        resolution.reopens,
        resolution.is_one_touch,
        latest_ratings.score as csat_score,
        tickets.is_stale_upstream,
        tickets.refreshed_at
    from tickets
    left join reply_times
        on tickets.tenant_id = reply_times.tenant_id
        and tickets.ticket_id = reply_times.ticket_id
    left join resolution
        on tickets.tenant_id = resolution.tenant_id
        and tickets.ticket_id = resolution.ticket_id
    left join business_minutes
        on tickets.tenant_id = business_minutes.tenant_id
        and tickets.ticket_id = business_minutes.ticket_id
    left join latest_ratings
        on tickets.tenant_id = latest_ratings.tenant_id
        and tickets.ticket_id = latest_ratings.ticket_id

)

select * from final
