-- One row per tenant, agent, tenant day and SLA metric with a decided SLA instance: the
-- instances achieved and breached that day that count for or against the agent, and the
-- attainment (macros/marts/sla_rollup.sql).
-- A plain table, counted again from fct_ticket_slas on every build (DECISIONLOG.md).

with

{{ deskpulse.sla_rollup('agent', 'day') }},

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(rolled_up.subject_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(rolled_up.period_start as date) as activity_date,
        {{ deskpulse.sla_figures() }}
    from rolled_up

)

select * from final
