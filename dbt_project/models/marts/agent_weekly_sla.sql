-- One row per tenant, agent, week (Monday to Sunday of tenant days) and SLA metric with a
-- decided SLA instance, counted from the instances, not from the daily mart
-- (macros/marts/sla_rollup.sql).
-- A plain table, counted again from fct_ticket_slas on every build (DECISIONLOG.md).

with

{{ deskpulse.sla_rollup('agent', 'week') }},

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(rolled_up.subject_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(rolled_up.period_start as date) as week_start,
        {{ deskpulse.sla_figures() }}
    from rolled_up

)

select * from final
