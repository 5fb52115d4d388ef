-- One row per tenant, agent and tenant day with activity, rolled up from ticket-level activity
-- rows (macros/marts/performance_rollup.sql). Work is credited to the agent who did it at the
-- time; deleted tickets and their ratings are left out.
-- Incremental by period: a run recomputes the cells its changed tickets can touch
-- (macros/incremental/changed_periods.sql).

-- depends_on: {{ ref('int_ticket_changes__ticket') }}
-- depends_on: {{ ref('stg_zendesk__tickets') }}
-- depends_on: {{ ref('int_tenant_retention__tenant') }}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_periods('activity_date', 1) }}",
) }}

with

{{ deskpulse.performance_rollup('agent_id', 'activity_date', 1, is_incremental()) }},

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(users.user_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(rolled_up.period as date) as activity_date,
        {{ deskpulse.performance_figures() }}
    from rolled_up
    left join users
        on rolled_up.tenant_id = users.tenant_id
        and rolled_up.entity_id = users.user_id

)

select * from final
