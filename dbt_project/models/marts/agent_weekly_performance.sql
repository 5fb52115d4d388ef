-- One row per tenant, agent and week (Monday to Sunday of tenant days) with activity, rolled up
-- from the ticket-level activity rows, not from the daily mart (macros/marts/performance_rollup.sql):
-- a ticket solved twice in a week counts once, percentiles are over the week's first replies.
-- Incremental by period: a run recomputes the cells its changed tickets can touch
-- (macros/incremental/changed_periods.sql).

-- depends_on: {{ ref('int_ticket_changes__ticket') }}
-- depends_on: {{ ref('stg_zendesk__tickets') }}
-- depends_on: {{ ref('int_tenant_retention__tenant') }}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_periods('week_start', 7) }}",
) }}

with

{{ deskpulse.performance_rollup('agent_id', 'activity_week', 7, is_incremental()) }},

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(users.user_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(rolled_up.period as date) as week_start,
        {{ deskpulse.performance_figures() }}
    from rolled_up
    left join users
        on rolled_up.tenant_id = users.tenant_id
        and rolled_up.entity_id = users.user_id

)

select * from final
