-- One row per tenant, group and week (Monday to Sunday of tenant days) with activity: the work
-- done on tickets while they were in the group (the group in force at the reply or solve, the
-- rating's group for ratings), rolled up from ticket-level activity rows
-- (macros/marts/performance_rollup.sql). Solves while unassigned count for the group.

with

{{ deskpulse.performance_rollup('group_id', 'activity_week') }},

groups as (

    select tenant_id, group_id, group_key from {{ ref('stg_zendesk__groups') }}

),

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(groups.group_key as {{ deskpulse.warehouse_type('varchar') }}) as group_key,
        cast(rolled_up.period as date) as week_start,
        cast(rolled_up.tickets_solved as bigint) as tickets_solved,
        cast(rolled_up.public_replies as bigint) as public_replies,
        cast(rolled_up.first_replies as bigint) as first_replies,
        cast(rolled_up.median_first_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_first_reply_minutes,
        cast(rolled_up.p90_first_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as p90_first_reply_minutes,
        cast(rolled_up.median_first_reply_business_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as median_first_reply_business_minutes,
        cast(rolled_up.one_touch_solved as bigint) as one_touch_solved,
        cast(rolled_up.reopened_after_solve as bigint) as reopened_after_solve,
        cast(rolled_up.csat_good as bigint) as csat_good,
        cast(rolled_up.csat_bad as bigint) as csat_bad,
        cast(rolled_up.csat_pct as {{ deskpulse.warehouse_type('double precision') }}) as csat_pct
    from rolled_up
    left join groups
        on rolled_up.tenant_id = groups.tenant_id
        and rolled_up.entity_id = groups.group_id

)

select * from final
