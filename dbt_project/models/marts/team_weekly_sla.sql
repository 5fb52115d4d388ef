-- One row per tenant, group, week (Monday to Sunday of tenant days) and SLA metric with a
-- decided SLA instance: the instances decided while the ticket was in the group
-- (macros/marts/sla_rollup.sql).
-- A plain table, counted again from fct_ticket_slas on every build (DECISIONLOG.md).

with

{{ deskpulse.sla_rollup('group', 'week') }},

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(rolled_up.subject_key as {{ deskpulse.warehouse_type('varchar') }}) as group_key,
        cast(rolled_up.period_start as date) as week_start,
        {{ deskpulse.sla_figures() }}
    from rolled_up

)

select * from final
