-- One row per ticket and SLA target instance: the policy and target Zendesk applied, when the
-- target would be breached and when the metric was fulfilled, and the status the rulings of
-- docs/metrics.md give it when the build ran (refreshed_at, the start of the run). A decided
-- instance names the assignee and group in force at its outcome (the breach, else the fulfilment),
-- for or against whom it counts, and the tenant day it counts on; the SLA rollups read these.
-- A plain table, rebuilt whole (DECISIONLOG.md: why not incremental by ticket).

with

metric_events as (

    select
        tenant_id,
        ticket_id,
        metric,
        instance_id,
        metric_event_type,
        occurred_at,
        ticket_metric_event_id,
        sla_policy_id,
        sla_target_minutes,
        is_sla_business_hours,
        status_calendar_minutes,
        status_business_minutes,
        coalesce(is_deleted, false) as is_deleted
    from {{ ref('stg_zendesk__ticket_metric_events') }}

),

-- the target in force: the latest apply_sla of the instance (a priority change re-applies one)
applications as (

    select
        metric_events.*,
        row_number() over (
            partition by tenant_id, ticket_id, metric, instance_id
            order by occurred_at desc, ticket_metric_event_id desc
        ) as application_rank
    from metric_events
    where metric_event_type = 'apply_sla'

),

applied as (

    select * from applications where application_rank = 1

),

-- per instance: the breach time still standing (a withdrawn breach is deleted), and the latest
-- fulfilment unless the clock ran again after it (a reopened ticket's wait time)
milestones as (

    select
        tenant_id,
        ticket_id,
        metric,
        instance_id,
        max(case when metric_event_type = 'breach' and not is_deleted then occurred_at end)
            as breach_at,
        max(case when metric_event_type = 'fulfill' then occurred_at end) as last_fulfilled_at,
        max(case when metric_event_type = 'activate' then occurred_at end) as last_activated_at
    from metric_events
    where metric_event_type in ('breach', 'fulfill', 'activate')
    group by tenant_id, ticket_id, metric, instance_id

),

-- the metric's value when fulfilled: the update_status at the fulfilment
status_updates as (

    select
        tenant_id,
        ticket_id,
        metric,
        instance_id,
        occurred_at,
        status_calendar_minutes,
        status_business_minutes,
        row_number() over (
            partition by tenant_id, ticket_id, metric, instance_id, occurred_at
            order by ticket_metric_event_id desc
        ) as update_rank
    from metric_events
    where metric_event_type = 'update_status'

),

fulfilled_status as (

    select * from status_updates where update_rank = 1

),

policies as (

    select tenant_id, sla_policy_id, sla_policy_title from {{ ref('stg_zendesk__sla_policies') }}

),

instances as (

    select
        applied.tenant_id,
        applied.ticket_id,
        applied.metric,
        applied.instance_id,
        case
            when applied.metric = 'reply_time' and applied.instance_id = 1 then 'first_reply_time'
            when applied.metric = 'reply_time' then 'next_reply_time'
            else applied.metric
        end as sla_metric,
        applied.sla_policy_id,
        applied.sla_target_minutes,
        coalesce(applied.is_sla_business_hours, false) as is_business_hours,
        applied.occurred_at as applied_at,
        milestones.breach_at,
        case
            when milestones.last_fulfilled_at >= applied.occurred_at
                and milestones.last_fulfilled_at >= coalesce(milestones.last_activated_at,
                                                             milestones.last_fulfilled_at)
                then milestones.last_fulfilled_at
        end as fulfilled_at
    from applied
    left join milestones
        on applied.tenant_id = milestones.tenant_id
        and applied.ticket_id = milestones.ticket_id
        and applied.metric = milestones.metric
        and applied.instance_id = milestones.instance_id

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

-- the assignee and group after the last audit at or before the outcome
audits_before_outcome as (

    select
        outcomes.tenant_id,
        outcomes.ticket_id,
        outcomes.metric,
        outcomes.instance_id,
        audits.assignee_id_after_audit as assignee_id,
        audits.group_id_after_audit as group_id,
        row_number() over (
            partition by outcomes.tenant_id, outcomes.ticket_id, outcomes.metric, outcomes.instance_id
            order by audits.audit_sequence desc
        ) as audit_rank
    from outcomes
    inner join {{ ref('int_ticket_timeline__audit') }} as audits
        on outcomes.tenant_id = audits.tenant_id
        and outcomes.ticket_id = audits.ticket_id
        and audits.created_at <= outcomes.outcome_at

),

accountable as (

    select * from audits_before_outcome where audit_rank = 1

),

deleted_tickets as (

    select tenant_id, ticket_id
    from {{ ref('stg_zendesk__tickets') }}
    where status = 'deleted'

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
            case when outcomes.is_business_hours then fulfilled_status.status_business_minutes
                 else fulfilled_status.status_calendar_minutes end
            - outcomes.sla_target_minutes as bigint
        ) as minutes_over_target,
        cast({{ deskpulse.tenant_date(
            'outcomes.outcome_at', "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as date) as outcome_date,
        cast(accountable_users.user_key as {{ deskpulse.warehouse_type('varchar') }})
            as accountable_agent_key,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as accountable_group_key,
        cast(deleted_tickets.ticket_id is not null as boolean) as is_ticket_deleted,
        cast({{ deskpulse.run_started_literal() }} as {{ dbt.type_timestamp() }}) as refreshed_at
    from outcomes
    left join policies
        on outcomes.tenant_id = policies.tenant_id
        and outcomes.sla_policy_id = policies.sla_policy_id
    left join fulfilled_status
        on outcomes.tenant_id = fulfilled_status.tenant_id
        and outcomes.ticket_id = fulfilled_status.ticket_id
        and outcomes.metric = fulfilled_status.metric
        and outcomes.instance_id = fulfilled_status.instance_id
        and outcomes.fulfilled_at = fulfilled_status.occurred_at
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
    left join deleted_tickets
        on outcomes.tenant_id = deleted_tickets.tenant_id
        and outcomes.ticket_id = deleted_tickets.ticket_id
    left join tenant_time_zones
        on outcomes.tenant_id = tenant_time_zones.tenant_id

)

select * from final
