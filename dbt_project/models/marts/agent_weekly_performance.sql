-- One row per tenant, agent and week (Monday to Sunday of tenant days) with activity, rolled up
-- from the ticket-level activity rows, not from the daily mart (macros/marts/performance_rollup.sql):
-- a ticket solved twice in a week counts once, percentiles are over the week's first replies.

with

{{ deskpulse.performance_rollup('agent_id', 'activity_week') }},

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

final as (

    select
        cast(rolled_up.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(users.user_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
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
    left join users
        on rolled_up.tenant_id = users.tenant_id
        and rolled_up.entity_id = users.user_id

)

select * from final
