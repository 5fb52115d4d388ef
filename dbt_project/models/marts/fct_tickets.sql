-- One row per ticket: its measures (int_ticket_measures__ticket) with keys for its people and
-- group, the dimensions a manager slices by (channel, priority, type, brand), and its tenant day.
-- Incremental by ticket: a run recomputes only the tickets that changed
-- (macros/incremental/changed_tickets.sql).

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

-- the pre-hook deletes the rows of the changed tickets:
-- depends_on: {{ ref('int_ticket_changes__ticket') }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}

with

tickets as (

    select tickets.*
    from {{ ref('int_ticket_measures__ticket') }} as tickets
    where {{ deskpulse.refreshed_rows('tickets', since) }}

),

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

groups as (

    select tenant_id, group_id, group_key from {{ ref('stg_zendesk__groups') }}

),

brands as (

    select tenant_id, brand_id, brand_name from {{ ref('stg_zendesk__brands') }}

),

tenant_time_zones as (

    select tenant_id, time_zone from {{ ref('int_tenant_time_zones__tenant') }}

),

final as (

    select
        cast(tickets.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(tickets.ticket_id as bigint) as ticket_id,
        cast(tickets.created_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as created_at,
        cast({{ deskpulse.tenant_date(
            'tickets.created_at', "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as date) as created_date,
        cast(tickets.status as {{ deskpulse.warehouse_type('varchar') }}) as status,
        cast(coalesce(tickets.status = 'deleted', false) as boolean) as is_deleted,
        cast(tickets.via_channel as {{ deskpulse.warehouse_type('varchar') }}) as via_channel,
        cast(tickets.priority as {{ deskpulse.warehouse_type('varchar') }}) as priority,
        cast(tickets.ticket_type as {{ deskpulse.warehouse_type('varchar') }}) as ticket_type,
        cast(tickets.brand_id as bigint) as brand_id,
        cast(brands.brand_name as {{ deskpulse.warehouse_type('varchar') }}) as brand_name,
        cast(requesters.user_key as {{ deskpulse.warehouse_type('varchar') }}) as requester_key,
        cast(assignees.user_key as {{ deskpulse.warehouse_type('varchar') }}) as assignee_key,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as group_key,
        cast(tickets.schedule_id as bigint) as schedule_id,
        cast(tickets.first_reply_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as first_reply_at,
        cast(tickets.first_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as first_reply_minutes,
        cast(tickets.first_reply_business_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as first_reply_business_minutes,
        cast(first_repliers.user_key as {{ deskpulse.warehouse_type('varchar') }})
            as first_reply_agent_key,
        cast(tickets.first_solved_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as first_solved_at,
        cast(tickets.final_solved_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as final_solved_at,
        cast(tickets.first_resolution_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as first_resolution_minutes,
        cast(tickets.first_resolution_business_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as first_resolution_business_minutes,
        cast(tickets.full_resolution_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as full_resolution_minutes,
        cast(tickets.full_resolution_business_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as full_resolution_business_minutes,
        cast(tickets.requester_wait_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as requester_wait_minutes,
        cast(tickets.agent_work_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as agent_work_minutes,
        cast(coalesce(tickets.agent_replies, 0) as bigint) as agent_replies,
        cast(coalesce(tickets.reopens, 0) as bigint) as reopens,
        cast(coalesce(tickets.is_one_touch, false) as boolean) as is_one_touch,
        cast(tickets.csat_score as {{ deskpulse.warehouse_type('varchar') }}) as csat_score,
        cast(coalesce(tickets.is_stale_upstream, false) as boolean) as is_stale_upstream,
        cast(tickets.refreshed_at as {{ dbt.type_timestamp() }}) as refreshed_at
    from tickets
    left join users as requesters
        on tickets.tenant_id = requesters.tenant_id
        and tickets.requester_id = requesters.user_id
    left join users as assignees
        on tickets.tenant_id = assignees.tenant_id
        and tickets.assignee_id = assignees.user_id
    left join users as first_repliers
        on tickets.tenant_id = first_repliers.tenant_id
        and tickets.first_reply_agent_id = first_repliers.user_id
    left join groups
        on tickets.tenant_id = groups.tenant_id
        and tickets.group_id = groups.group_id
    left join brands
        on tickets.tenant_id = brands.tenant_id
        and tickets.brand_id = brands.brand_id
    left join tenant_time_zones
        on tickets.tenant_id = tenant_time_zones.tenant_id

)

select * from final
