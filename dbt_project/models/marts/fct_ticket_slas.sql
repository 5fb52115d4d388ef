-- One row per loaded ticket and SLA target instance: the policy and target Zendesk applied, when the
-- target would be breached and when the metric was fulfilled, and the status the rulings of
-- docs/metrics.md give it when the build ran (refreshed_at, the start of the run). A decided
-- instance names the assignee and group in force at its outcome (the breach, else the fulfilment),
-- for or against whom it counts, and the tenant day it counts on; the SLA rollups read these.
-- Incremental by ticket (macros/incremental/changed_tickets.sql): a ticket is recomputed when it
-- or its metric events changed, and while a metric event of it lies ahead of the build (a breach
-- Zendesk scheduled in advance), so no instance stays active once its breach time has passed.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

-- the pre-hook deletes the rows of the changed tickets:
-- depends_on: {{ ref('int_ticket_changes__ticket') }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}
{%- set events = ref('stg_zendesk__ticket_metric_events') %}
{%- set applied = "metric_event_type = 'apply_sla'" %}
{%- set status_update = "metric_event_type = 'update_status'" %}
{%- set recorded = 'events.ticket_metric_event_id' %}

with

{% if since is not none %}

changed as (

    {{ deskpulse.changed_tickets(since) }}

),

{% endif %}

-- per instance, in one pass over its events: the target in force (the latest apply_sla: a
-- priority change re-applies one), the breach time still standing (a withdrawn breach is
-- deleted), the latest fulfilment and activation, and the latest update_status, which carries
-- the metric's minutes when it was fulfilled. "Latest" applies and updates are the last
-- recorded: Zendesk numbers events as it records them, and records these as they happen.
instance_events as (

    select
        events.tenant_id,
        events.ticket_id,
        events.metric,
        events.instance_id,
        {{ deskpulse.latest_value('events.occurred_at', recorded, applied) }} as applied_at,
        {{ deskpulse.latest_value('events.sla_policy_id', recorded, applied) }} as sla_policy_id,
        {{ deskpulse.latest_value('events.sla_target_minutes', recorded, applied) }}
            as sla_target_minutes,
        {{ deskpulse.latest_value('events.is_sla_business_hours', recorded, applied) }}
            as is_sla_business_hours,
        max(case
            when events.metric_event_type = 'breach' and not coalesce(events.is_deleted, false)
                then events.occurred_at
        end) as breach_at,
        max(case when events.metric_event_type = 'fulfill' then events.occurred_at end)
            as last_fulfilled_at,
        max(case when events.metric_event_type = 'activate' then events.occurred_at end)
            as last_activated_at,
        {{ deskpulse.latest_value('events.occurred_at', recorded, status_update) }} as last_status_at,
        {{ deskpulse.latest_value('events.status_calendar_minutes', recorded, status_update) }}
            as status_calendar_minutes,
        {{ deskpulse.latest_value('events.status_business_minutes', recorded, status_update) }}
            as status_business_minutes
    from {{ events }} as events
    {%- if since is not none %}
    inner join changed
        on events.tenant_id = changed.tenant_id
        and events.ticket_id = changed.ticket_id
    {%- endif %}
    where events.metric_event_type in ('apply_sla', 'breach', 'fulfill', 'activate', 'update_status')
        and {{ deskpulse.in_changed_tickets('events', since) }}
    group by events.tenant_id, events.ticket_id, events.metric, events.instance_id

),

policies as (

    select tenant_id, sla_policy_id, sla_policy_title from {{ ref('stg_zendesk__sla_policies') }}

),

instances as (

    select
        tenant_id,
        ticket_id,
        metric,
        instance_id,
        case
            when metric = 'reply_time' and instance_id = 1 then 'first_reply_time'
            when metric = 'reply_time' then 'next_reply_time'
            else metric
        end as sla_metric,
        sla_policy_id,
        sla_target_minutes,
        coalesce(is_sla_business_hours, false) as is_business_hours,
        applied_at,
        breach_at,
        -- fulfilled unless the clock ran again after the latest fulfilment (a reopened ticket's
        -- wait time)
        case
            when last_fulfilled_at >= applied_at
                and last_fulfilled_at >= coalesce(last_activated_at, last_fulfilled_at)
                then last_fulfilled_at
        end as fulfilled_at,
        last_status_at,
        status_calendar_minutes,
        status_business_minutes
    from instance_events
    where applied_at is not null

),

judged as (

    select
        instances.*,
        case
            when instances.breach_at < instances.fulfilled_at then 'breached'
            when instances.fulfilled_at is null
                and instances.breach_at < {{ deskpulse.run_started_literal() }} then 'breached'
            when instances.fulfilled_at is not null then 'achieved'
            else 'active'
        end as sla_status
    from instances

),

-- a decided instance's outcome: its breach if breached, its fulfilment if achieved
outcomes as (

    select
        judged.*,
        case
            when judged.sla_status = 'breached' then judged.breach_at
            when judged.sla_status = 'achieved' then judged.fulfilled_at
        end as outcome_at
    from judged

),

audits as (

    select tenant_id, ticket_id, audit_sequence, created_at, assignee_id_after_audit, group_id_after_audit
    from {{ ref('int_ticket_timeline__audit') }} as audits
    where {{ deskpulse.refreshed_rows('audits', since) }}

),

-- the assignee and group after the last audit at or before the outcome
accountable as (

    select
        outcomes.tenant_id,
        outcomes.ticket_id,
        outcomes.metric,
        outcomes.instance_id,
        {{ deskpulse.latest_value('audits.assignee_id_after_audit', 'audits.audit_sequence') }}
            as assignee_id,
        {{ deskpulse.latest_value('audits.group_id_after_audit', 'audits.audit_sequence') }}
            as group_id
    from outcomes
    inner join audits
        on outcomes.tenant_id = audits.tenant_id
        and outcomes.ticket_id = audits.ticket_id
        and audits.created_at <= outcomes.outcome_at
    group by outcomes.tenant_id, outcomes.ticket_id, outcomes.metric, outcomes.instance_id

),

-- the tickets loaded: a ticket's metric events count once its own row has arrived, as its
-- events and ratings do (the incremental models follow the tickets of int_ticket_changes)
tickets as (

    select tickets.tenant_id, tickets.ticket_id, tickets.status
    from {{ ref('stg_zendesk__tickets') }} as tickets
    where {{ deskpulse.in_changed_tickets('tickets', since) }}

),

groups as (

    select tenant_id, group_id, group_key from {{ ref('stg_zendesk__groups') }}

),

tenant_time_zones as (

    select tenant_id, time_zone from {{ ref('int_tenant_time_zones__tenant') }}

),

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

final as (

    select
        cast(outcomes.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(outcomes.ticket_id as bigint) as ticket_id,
        cast(outcomes.sla_metric as {{ deskpulse.warehouse_type('varchar') }}) as sla_metric,
        cast(outcomes.instance_id as bigint) as instance_id,
        cast(outcomes.sla_policy_id as bigint) as sla_policy_id,
        cast(policies.sla_policy_title as {{ deskpulse.warehouse_type('varchar') }})
            as sla_policy_title,
        cast(outcomes.sla_target_minutes as bigint) as target_minutes,
        cast(outcomes.is_business_hours as boolean) as is_business_hours,
        cast(outcomes.applied_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as applied_at,
        cast(outcomes.breach_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as breach_at,
        cast(outcomes.fulfilled_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as fulfilled_at,
        cast(outcomes.sla_status as {{ deskpulse.warehouse_type('varchar') }}) as sla_status,
        cast(
            -- the minutes of the update_status at the fulfilment
            case when outcomes.last_status_at = outcomes.fulfilled_at then
                case when outcomes.is_business_hours then outcomes.status_business_minutes
                     else outcomes.status_calendar_minutes end
                - outcomes.sla_target_minutes
            end as bigint
        ) as minutes_over_target,
        cast({{ deskpulse.tenant_date(
            'outcomes.outcome_at', "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as date) as outcome_date,
        cast(accountable_users.user_key as {{ deskpulse.warehouse_type('varchar') }})
            as accountable_agent_key,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as accountable_group_key,
        cast(coalesce(tickets.status = 'deleted', false) as boolean) as is_ticket_deleted,
        cast({{ deskpulse.run_started_literal() }} as {{ dbt.type_timestamp() }}) as refreshed_at
    from outcomes
    inner join tickets
        on outcomes.tenant_id = tickets.tenant_id
        and outcomes.ticket_id = tickets.ticket_id
    left join policies
        on outcomes.tenant_id = policies.tenant_id
        and outcomes.sla_policy_id = policies.sla_policy_id
    left join accountable
        on outcomes.tenant_id = accountable.tenant_id
        and outcomes.ticket_id = accountable.ticket_id
        and outcomes.metric = accountable.metric
        and outcomes.instance_id = accountable.instance_id
    left join users as accountable_users
        on accountable.tenant_id = accountable_users.tenant_id
        and accountable.assignee_id = accountable_users.user_id
    left join groups
        on accountable.tenant_id = groups.tenant_id
        and accountable.group_id = groups.group_id
    left join tenant_time_zones
        on outcomes.tenant_id = tenant_time_zones.tenant_id

)

select * from final
