-- Which tickets changed since the last build, so incremental models recompute only those.
--
-- One row per ticket ever seen, holding what raw held for it when it was last recomputed (its
-- row's updated_at; the tenant's latest event and rating then, which make the next run's
-- watermarks) and `refreshed_at`, the start of the run that saw it change. A ticket counts as changed when its
-- row is new or differs (Zendesk moves `updated_at` on every audit, rating and deletion), when
-- events or ratings arrived at or after the tenant's latest ones already seen (in case a ticket
-- row and its events land in different loads), when a user on it changed (a key arriving late,
-- an end user becoming an agent), when the tenant's settings changed (time zone, schedules,
-- holidays, groups), or when it disappeared from raw (erasure, offboarding): then its rows
-- elsewhere are removed. A full build marks every ticket.

-- depends_on: {{ ref('int_user_changes__user') }}

{{ config(
    materialized='incremental',
    unique_key=['tenant_id', 'ticket_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

tickets as (

    select tenant_id, ticket_id, updated_at, requester_id, assignee_id
    from {{ ref('stg_zendesk__tickets') }}

),

{#- the raw events and ratings are read where they are used, never through one shared CTE, which
    an engine may materialise in full (17 million rows for a million tickets) -#}
{%- set ticket_events = ref('stg_zendesk__ticket_events') %}
{%- set ratings = ref('stg_zendesk__satisfaction_ratings') %}

settings as (

    select tenant_id, settings_fingerprint from {{ ref('int_tenant_settings__tenant') }}

),

current_tickets as (

    select
        tickets.tenant_id,
        tickets.ticket_id,
        tickets.updated_at,
        settings.settings_fingerprint
    from tickets
    left join settings
        on tickets.tenant_id = settings.tenant_id

),

{% if is_incremental() %}

previous as (

    select * from {{ this }}

),

watermarks as (

    select
        tenant_id,
        max(last_event_at) as event_watermark,
        max(last_rating_at) as rating_watermark
    from previous
    group by tenant_id

),

latest_stamp as (

    select max(refreshed_at) as refreshed_at from previous

),

changed_users as (

    select user_changes.tenant_id, user_changes.user_id
    from {{ ref('int_user_changes__user') }} as user_changes
    cross join latest_stamp
    where latest_stamp.refreshed_at is null
        or user_changes.refreshed_at > latest_stamp.refreshed_at

),

candidates as (

    select current_tickets.tenant_id, current_tickets.ticket_id
    from current_tickets
    left join previous
        on current_tickets.tenant_id = previous.tenant_id
        and current_tickets.ticket_id = previous.ticket_id
    where previous.ticket_id is null
        or previous.is_removed
        or previous.ticket_updated_at is distinct from current_tickets.updated_at
        or previous.settings_fingerprint is distinct from current_tickets.settings_fingerprint

    union

    -- (a tenant without a watermark has only new tickets, caught above)
    select ticket_events.tenant_id, ticket_events.ticket_id
    from {{ ticket_events }} as ticket_events
    inner join watermarks
        on ticket_events.tenant_id = watermarks.tenant_id
    where ticket_events.created_at >= watermarks.event_watermark
        -- the same, as one constant, so the engine can skip old data outright
        and ticket_events.created_at >= (select min(event_watermark) from watermarks)

    union

    select ratings.tenant_id, ratings.ticket_id
    from {{ ratings }} as ratings
    inner join watermarks
        on ratings.tenant_id = watermarks.tenant_id
    where ratings.updated_at >= watermarks.rating_watermark
        and ratings.updated_at >= (select min(rating_watermark) from watermarks)

    union

    select tickets.tenant_id, tickets.ticket_id
    from tickets
    inner join changed_users
        on tickets.tenant_id = changed_users.tenant_id
        and tickets.requester_id = changed_users.user_id

    union

    select tickets.tenant_id, tickets.ticket_id
    from tickets
    inner join changed_users
        on tickets.tenant_id = changed_users.tenant_id
        and tickets.assignee_id = changed_users.user_id

    union

    select ticket_events.tenant_id, ticket_events.ticket_id
    from {{ ticket_events }} as ticket_events
    inner join changed_users
        on ticket_events.tenant_id = changed_users.tenant_id
        and ticket_events.author_id = changed_users.user_id
    where ticket_events.event_type = 'Comment'

),

changed as (

    select current_tickets.*
    from current_tickets
    inner join candidates
        on current_tickets.tenant_id = candidates.tenant_id
        and current_tickets.ticket_id = candidates.ticket_id

),

removed as (

    select previous.tenant_id, previous.ticket_id
    from previous
    left join tickets
        on previous.tenant_id = tickets.tenant_id
        and previous.ticket_id = tickets.ticket_id
    where tickets.ticket_id is null
        and not previous.is_removed

),

{% else %}

changed as (

    select * from current_tickets

),

{% endif %}

latest_raw as (

    -- the tenants' latest raw event and rating now: the watermarks of the next run
    select events.tenant_id, events.last_event_at, ratings.last_rating_at
    from (
        select tenant_id, max(created_at) as last_event_at
        from {{ ticket_events }}
        group by tenant_id
    ) as events
    left join (
        select tenant_id, max(updated_at) as last_rating_at
        from {{ ratings }}
        group by tenant_id
    ) as ratings
        on events.tenant_id = ratings.tenant_id

),

final as (

    select
        changed.tenant_id,
        changed.ticket_id,
        changed.updated_at as ticket_updated_at,
        latest_raw.last_event_at,
        latest_raw.last_rating_at,
        changed.settings_fingerprint,
        false as is_removed,
        {{ deskpulse.run_started_literal() }} as refreshed_at
    from changed
    left join latest_raw
        on changed.tenant_id = latest_raw.tenant_id

    {% if is_incremental() %}

    union all

    select
        tenant_id,
        ticket_id,
        cast(null as {{ deskpulse.warehouse_type('timestamp with time zone') }}),
        cast(null as {{ deskpulse.warehouse_type('timestamp with time zone') }}),
        cast(null as {{ deskpulse.warehouse_type('timestamp with time zone') }}),
        cast(null as {{ dbt.type_string() }}),
        true,
        {{ deskpulse.run_started_literal() }}
    from removed

    {% endif %}

)

select * from final
