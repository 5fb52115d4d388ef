-- One row per tenant, group and week (Monday to Sunday of tenant days) with activity: the work
-- done on tickets while they were in the group (the group in force at the reply or solve, the
-- rating's group for ratings), rolled up from ticket-level activity rows
-- (macros/marts/performance_rollup.sql). Solves while unassigned count for the group. The group's
-- name is today's: a renamed group recomputes the tenant's cells (int_tenant_settings__tenant).
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

{{ deskpulse.performance_rollup('group_id', 'activity_week', 7, is_incremental()) }},

groups as (

    select tenant_id, group_id, group_key, group_name from {{ ref('stg_zendesk__groups') }}

),

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as group_key,
        cast(groups.group_name as {{ deskpulse.warehouse_type('varchar') }}) as group_name,
        cast(rolled_up.period as date) as week_start,
        {{ deskpulse.performance_figures() }}
    from rolled_up
    left join groups
        on rolled_up.tenant_id = groups.tenant_id
        and rolled_up.entity_id = groups.group_id

)

select * from final
