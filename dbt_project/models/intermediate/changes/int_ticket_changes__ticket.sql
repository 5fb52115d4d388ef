-- Which tickets changed since the last build, so incremental models recompute only those.
--
-- One row per ticket ever seen, holding what raw held for it when it was last recomputed (its
-- row's updated_at; the tenant's latest event, rating and metric event then, which make the next
-- run's watermarks; whether a newer record about it sits in the quarantine) and `refreshed_at`, the start
-- of the run that saw it change. A ticket counts as changed when its
-- row is new or differs (Zendesk moves `updated_at` on every audit, rating and deletion), when
-- a record about it entered or left the quarantine, when
-- events, ratings or metric events arrived at or after the tenant's latest ones already seen (in
-- case a ticket row and its events land in different loads; Zendesk's metric events, a breach
-- among them, arrive with no change to the ticket), while a metric event of it lies ahead of the
-- run (Zendesk may record a breach in advance: its ticket is recomputed until the breach time
-- has passed, so its SLA status turns), when a user on it changed (a key arriving late,
-- an end user becoming an agent), when the tenant's settings changed (time zone, schedules,
-- holidays, groups), or when it disappeared from raw (erasure, offboarding): then its rows
-- elsewhere are removed. A full build marks every ticket.

-- depends_on: {{ ref('int_user_changes__user') }}, {{ ref('int_tenant_time_zones__tenant') }}

{{ config(
    materialized='incremental',
    unique_key=['tenant_id', 'ticket_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{#- The big inputs are read where they are used, never through one shared CTE, which an engine
    may materialise in full: the raw events and ratings (17 million rows for a million
    tickets), the raw tickets with their tenant's settings, and this model's own rows. -#}
{%- set tickets = ref('stg_zendesk__tickets') %}
{%- set ticket_events = ref('stg_zendesk__ticket_events') %}
{%- set ratings = ref('stg_zendesk__satisfaction_ratings') %}
{%- set metric_events = ref('stg_zendesk__ticket_metric_events') %}
{%- set first_instant = "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" %}
{%- set current_tickets -%}
    (
        select
            tickets.tenant_id,
            tickets.ticket_id,
            tickets.updated_at,
            settings.settings_fingerprint,
            quarantined.ticket_id is not null as is_stale_upstream
        from {{ tickets }} as tickets
        left join {{ ref('int_tenant_settings__tenant') }} as settings
            on tickets.tenant_id = settings.tenant_id
        left join (
            select distinct tenant_id, ticket_id
            from {{ ref('stg_zendesk__quarantine') }}
            where ticket_id is not null
        ) as quarantined
            on tickets.tenant_id = quarantined.tenant_id
            and tickets.ticket_id = quarantined.ticket_id
    )
{%- endset %}

with

{% if is_incremental() %}

watermarks as (

    select
        tenant_id,
        max(last_event_at) as event_watermark,
        max(last_rating_at) as rating_watermark,
        -- a tenant without metric events yet is read whole: its first ones may be of old tickets
        coalesce(max(last_metric_event_at), {{ first_instant }}) as metric_event_watermark
    from {{ this }}
    group by tenant_id

),

latest_stamp as (

    select max(refreshed_at) as refreshed_at from {{ this }}

),

changed_users as (

    select user_changes.tenant_id, user_changes.user_id
    from {{ ref('int_user_changes__user') }} as user_changes
    cross join latest_stamp
    where latest_stamp.refreshed_at is null
        or user_changes.refreshed_at > latest_stamp.refreshed_at

),

compared as (

    -- every ticket in raw beside its row of the last build, and every ticket that had one: one
    -- join finds the new tickets, the changed rows and the tickets gone from raw
    select
        coalesce(current_tickets.tenant_id, previous.tenant_id) as tenant_id,
        coalesce(current_tickets.ticket_id, previous.ticket_id) as ticket_id,
        current_tickets.ticket_id is null as is_gone
    from {{ current_tickets }} as current_tickets
    full outer join {{ this }} as previous
        on current_tickets.tenant_id = previous.tenant_id
        and current_tickets.ticket_id = previous.ticket_id
    where (
        current_tickets.ticket_id is not null and (
            previous.ticket_id is null
            or previous.is_removed
            or previous.ticket_updated_at is distinct from current_tickets.updated_at
            or previous.settings_fingerprint is distinct from current_tickets.settings_fingerprint
            or previous.is_stale_upstream is distinct from current_tickets.is_stale_upstream
        )
    ) or (current_tickets.ticket_id is null and not previous.is_removed)

),

candidates as (

    select tenant_id, ticket_id
    from compared
    where not is_gone

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

    select metric_events.tenant_id, metric_events.ticket_id
    from {{ metric_events }} as metric_events
    inner join watermarks
        on metric_events.tenant_id = watermarks.tenant_id
    where metric_events.occurred_at >= watermarks.metric_event_watermark
        and metric_events.occurred_at >= (select min(metric_event_watermark) from watermarks)

    union

    select tickets.tenant_id, tickets.ticket_id
    from {{ tickets }} as tickets
    inner join changed_users
        on tickets.tenant_id = changed_users.tenant_id
        and tickets.requester_id = changed_users.user_id

    union

    select tickets.tenant_id, tickets.ticket_id
    from {{ tickets }} as tickets
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
    from {{ current_tickets }} as current_tickets
    inner join candidates
        on current_tickets.tenant_id = candidates.tenant_id
        and current_tickets.ticket_id = candidates.ticket_id

),

removed as (

    select tenant_id, ticket_id
    from compared
    where is_gone

),

read_since as (

    -- no raw event or rating before these instants can be a tenant's latest: each tenant's
    -- latest was at or after its watermark (a tenant without one yet is read whole)
    select
        min(coalesce(watermarks.event_watermark, {{ first_instant }})) as events_since,
        min(coalesce(watermarks.rating_watermark, {{ first_instant }})) as ratings_since,
        min(coalesce(watermarks.metric_event_watermark, {{ first_instant }})) as metric_events_since
    from {{ ref('int_tenant_time_zones__tenant') }} as tenants
    left join watermarks
        on tenants.tenant_id = watermarks.tenant_id

),

{% else %}

changed as (

    select * from {{ current_tickets }} as current_tickets

),

{% endif %}

latest_raw as (

    -- the tenants' latest raw event, rating and metric event now: the watermarks of the next
    -- run (a metric event later than the run is not a watermark: it is read again until passed)
    select events.tenant_id, events.last_event_at, ratings.last_rating_at, metric_events.last_metric_event_at
    from (
        select tenant_id, max(created_at) as last_event_at
        from {{ ticket_events }}
        {%- if is_incremental() %}
        where created_at >= (select events_since from read_since)
        {%- endif %}
        group by tenant_id
    ) as events
    left join (
        select tenant_id, max(updated_at) as last_rating_at
        from {{ ratings }}
        {%- if is_incremental() %}
        where updated_at >= (select ratings_since from read_since)
        {%- endif %}
        group by tenant_id
    ) as ratings
        on events.tenant_id = ratings.tenant_id
    left join (
        select tenant_id, max(occurred_at) as last_metric_event_at
        from {{ metric_events }}
        where occurred_at <= {{ deskpulse.run_started_literal() }}
        {%- if is_incremental() %}
            and occurred_at >= (select metric_events_since from read_since)
        {%- endif %}
        group by tenant_id
    ) as metric_events
        on events.tenant_id = metric_events.tenant_id

),

final as (

    select
        changed.tenant_id,
        changed.ticket_id,
        changed.updated_at as ticket_updated_at,
        latest_raw.last_event_at,
        latest_raw.last_rating_at,
        latest_raw.last_metric_event_at,
        changed.settings_fingerprint,
        changed.is_stale_upstream,
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
        cast(null as {{ deskpulse.warehouse_type('timestamp with time zone') }}),
        cast(null as {{ dbt.type_string() }}),
        false,
        true,
        {{ deskpulse.run_started_literal() }}
    from removed

    {% endif %}

)

select * from final
