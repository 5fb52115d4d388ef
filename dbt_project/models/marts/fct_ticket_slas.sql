-- One row per ticket and SLA target instance: the policy and target Zendesk applied, when the
-- target would be breached and when the metric was fulfilled, and the status the rulings of
-- docs/metrics.md give it at the build's as-of time (the start of the run). A breached instance
-- names the assignee in force at its breach time, against whom the breach counts.
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

-- the assignee after the last audit at or before the breach
audits_before_breach as (

    select
        judged.tenant_id,
        judged.ticket_id,
        judged.metric,
        judged.instance_id,
        audits.assignee_id_after_audit as assignee_id,
        row_number() over (
            partition by judged.tenant_id, judged.ticket_id, judged.metric, judged.instance_id
            order by audits.audit_sequence desc
        ) as audit_rank
    from judged
    inner join {{ ref('int_ticket_timeline__audit') }} as audits
        on judged.tenant_id = audits.tenant_id
        and judged.ticket_id = audits.ticket_id
        and audits.created_at <= judged.breach_at
    where judged.sla_status = 'breached'

),

breach_assignees as (

    select * from audits_before_breach where audit_rank = 1

),

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

final as (

    select
        cast(judged.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(judged.ticket_id as bigint) as ticket_id,
        cast(judged.sla_metric as {{ deskpulse.warehouse_type('varchar') }}) as sla_metric,
        cast(judged.instance_id as bigint) as instance_id,
        cast(judged.sla_policy_id as bigint) as sla_policy_id,
        cast(policies.sla_policy_title as {{ deskpulse.warehouse_type('varchar') }})
            as sla_policy_title,
        cast(judged.sla_target_minutes as bigint) as target_minutes,
        cast(judged.is_business_hours as boolean) as is_business_hours,
        cast(judged.applied_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as applied_at,
        cast(judged.breach_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as breach_at,
        cast(judged.fulfilled_at as {{ deskpulse.warehouse_type('timestamp with time zone') }})
            as fulfilled_at,
        cast(judged.sla_status as {{ deskpulse.warehouse_type('varchar') }}) as sla_status,
        cast(
            case when judged.is_business_hours then fulfilled_status.status_business_minutes
                 else fulfilled_status.status_calendar_minutes end
            - judged.sla_target_minutes as bigint
        ) as minutes_over_target,
        cast(breach_users.user_key as {{ deskpulse.warehouse_type('varchar') }})
            as breach_assignee_key,
        cast({{ deskpulse.run_started_literal() }} as {{ dbt.type_timestamp() }}) as as_of
    from judged
    left join policies
        on judged.tenant_id = policies.tenant_id
        and judged.sla_policy_id = policies.sla_policy_id
    left join fulfilled_status
        on judged.tenant_id = fulfilled_status.tenant_id
        and judged.ticket_id = fulfilled_status.ticket_id
        and judged.metric = fulfilled_status.metric
        and judged.instance_id = fulfilled_status.instance_id
        and judged.fulfilled_at = fulfilled_status.occurred_at
    left join breach_assignees
        on judged.tenant_id = breach_assignees.tenant_id
        and judged.ticket_id = breach_assignees.ticket_id
        and judged.metric = breach_assignees.metric
        and judged.instance_id = breach_assignees.instance_id
    left join users as breach_users
        on breach_assignees.tenant_id = breach_users.tenant_id
        and breach_assignees.assignee_id = breach_users.user_id

)

select * from final
