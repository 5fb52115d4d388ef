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

-- per instance, in one pass over its events: which events carry the target in force (the latest
-- apply_sla: a priority change re-applies one) and the metric's minutes when it was fulfilled (the
-- latest update_status), the breach time still standing (a withdrawn breach is deleted), and the
-- latest fulfilment and activation. "Latest" applies and updates are the last recorded: Zendesk
-- numbers events as it records them, and records these as they happen. The pass keeps the two
-- events' ids and joins their values back: seven values per instance (three million instances at
-- a million tickets, most with a target) outgrow the memory bound and spill; two ids do not.
-- Instances without a target (metrics no policy covers) end here, before the joins: the inner
-- join below would drop them too, but only once DuckDB had joined them all, which doubles the
-- model's time at a million tickets.
instance_events as (

    select
        events.tenant_id,
        events.ticket_id,
        events.metric,
        events.instance_id,
        max(case when {{ applied }} then {{ recorded }} end) as applied_event_id,
        max(case when {{ status_update }} then {{ recorded }} end) as status_event_id,
        max(case
            when events.metric_event_type = 'breach' and not coalesce(events.is_deleted, false)
                then events.occurred_at
        end) as breach_at,
        max(case when events.metric_event_type = 'fulfill' then events.occurred_at end)
            as last_fulfilled_at,
        max(case when events.metric_event_type = 'activate' then events.occurred_at end)
            as last_activated_at
    from {{ events }} as events
    {%- if since is not none %}
    inner join changed
        on events.tenant_id = changed.tenant_id
        and events.ticket_id = changed.ticket_id
    {%- endif %}
    where events.metric_event_type in ('apply_sla', 'breach', 'fulfill', 'activate', 'update_status')
        and {{ deskpulse.in_changed_tickets('events', since) }}
    group by events.tenant_id, events.ticket_id, events.metric, events.instance_id
    having max(case when {{ applied }} then {{ recorded }} end) is not null

),

applied_events as (

    select tenant_id, ticket_id, ticket_metric_event_id, occurred_at, sla_policy_id, sla_target_minutes,
        is_sla_business_hours
    from {{ events }} as events
    where {{ applied }}
        and {{ deskpulse.in_changed_tickets('events', since) }}

),

status_events as (

    select tenant_id, ticket_id, ticket_metric_event_id, occurred_at, status_calendar_minutes,
        status_business_minutes
    from {{ events }} as events
    where {{ status_update }}
        and {{ deskpulse.in_changed_tickets('events', since) }}

),

policies as (

    select tenant_id, sla_policy_id, sla_policy_title from {{ ref('stg_zendesk__sla_policies') }}

),

instances as (

    select
        instance_events.tenant_id,
        instance_events.ticket_id,
        instance_events.metric,
        instance_events.instance_id,
        case
            when instance_events.metric = 'reply_time' and instance_events.instance_id = 1
                then 'first_reply_time'
            when instance_events.metric = 'reply_time' then 'next_reply_time'
            else instance_events.metric
        end as sla_metric,
        applied_events.sla_policy_id,
        applied_events.sla_target_minutes,
        coalesce(applied_events.is_sla_business_hours, false) as is_business_hours,
        applied_events.occurred_at as applied_at,
        instance_events.breach_at,
        -- fulfilled unless the clock ran again after the latest fulfilment (a reopened ticket's
        -- wait time)
        case
            when instance_events.last_fulfilled_at >= applied_events.occurred_at
                and instance_events.last_fulfilled_at
                    >= coalesce(instance_events.last_activated_at, instance_events.last_fulfilled_at)
                then instance_events.last_fulfilled_at
        end as fulfilled_at,
        status_events.occurred_at as last_status_at,
        status_events.status_calendar_minutes,
        status_events.status_business_minutes
    from instance_events
    inner join applied_events
        on instance_events.tenant_id = applied_events.tenant_id
        and instance_events.ticket_id = applied_events.ticket_id
        and instance_events.applied_event_id = applied_events.ticket_metric_event_id
    left join status_events
        on instance_events.tenant_id = status_events.tenant_id
        and instance_events.ticket_id = status_events.ticket_id
        and instance_events.status_event_id = status_events.ticket_metric_event_id

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

-- each audit with the instant the next took over: the ticket's assignee and group after it held
-- from one to the other, so the audit in force at an instant is found by that range alone
audits as (

    select tenant_id, ticket_id, created_at, next_audit_at, assignee_id_after_audit, group_id_after_audit
    from {{ ref('int_ticket_timeline__audit') }} as audits
    where {{ deskpulse.refreshed_rows('audits', since) }}

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
    -- the assignee and group in force at the outcome
    left join audits as in_force
        on outcomes.tenant_id = in_force.tenant_id
        and outcomes.ticket_id = in_force.ticket_id
        and in_force.created_at <= outcomes.outcome_at
        and (in_force.next_audit_at > outcomes.outcome_at or in_force.next_audit_at is null)
    left join users as accountable_users
        on in_force.tenant_id = accountable_users.tenant_id
        and in_force.assignee_id_after_audit = accountable_users.user_id
    left join groups
        on in_force.tenant_id = groups.tenant_id
        and in_force.group_id_after_audit = groups.group_id
    left join tenant_time_zones
        on outcomes.tenant_id = tenant_time_zones.tenant_id

)

select * from final
