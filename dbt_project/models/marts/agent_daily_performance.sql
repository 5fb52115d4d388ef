-- One row per tenant, agent and tenant day with any activity. Work is credited to the agent who
-- did it at the time; deleted tickets (and their ratings) stay out of every figure.

with

timeline as (

    select * from {{ ref('int_ticket_timeline__event') }}

),

reply_times as (

    select * from {{ ref('int_reply_times__ticket') }}

),

resolution as (

    select tenant_id, ticket_id, is_one_touch from {{ ref('int_resolution__ticket') }}

),

agent_solves as (

    select * from {{ ref('int_agent_solves__agent_day_ticket') }}

),

ratings as (

    select * from {{ ref('int_satisfaction_ratings__rating') }}

),

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

public_replies as (

    select
        tenant_id,
        author_id as agent_id,
        created_date as activity_date,
        count(*) as public_replies
    from timeline
    where is_public_agent_reply
        and not is_ticket_deleted
    group by tenant_id, author_id, created_date

),

first_replies as (

    select
        tenant_id,
        first_reply_agent_id as agent_id,
        first_reply_date as activity_date,
        count(*) as first_replies,
        {{ percentile_cont('first_reply_minutes', 0.5) }} as median_first_reply_minutes,
        {{ percentile_cont('first_reply_minutes', 0.9) }} as p90_first_reply_minutes
    from reply_times
    where first_reply_at is not null
        and not is_ticket_deleted
    group by tenant_id, first_reply_agent_id, first_reply_date

),

solves as (

    select
        agent_solves.tenant_id,
        agent_solves.agent_id,
        agent_solves.solved_date as activity_date,
        count(*) as tickets_solved,
        sum(case when resolution.is_one_touch then 1 else 0 end) as one_touch_solved,
        sum(case when agent_solves.is_reopened_after_solve then 1 else 0 end)
            as reopened_after_solve
    from agent_solves
    left join resolution
        on agent_solves.tenant_id = resolution.tenant_id
        and agent_solves.ticket_id = resolution.ticket_id
    where not agent_solves.is_ticket_deleted
    group by agent_solves.tenant_id, agent_solves.agent_id, agent_solves.solved_date

),

satisfaction as (

    select
        tenant_id,
        assignee_id as agent_id,
        created_date as activity_date,
        sum(case when score = 'good' then 1 else 0 end) as csat_good,
        sum(case when score = 'bad' then 1 else 0 end) as csat_bad
    from ratings
    where is_rated
        and assignee_id is not null
        and not is_ticket_deleted
    group by tenant_id, assignee_id, created_date

),

agent_days as (

    select tenant_id, agent_id, activity_date from public_replies
    union
    select tenant_id, agent_id, activity_date from first_replies
    union
    select tenant_id, agent_id, activity_date from solves
    union
    select tenant_id, agent_id, activity_date from satisfaction

),

joined as (

    select
        agent_days.tenant_id,
        users.user_key as agent_key,
        agent_days.activity_date,
        coalesce(solves.tickets_solved, 0) as tickets_solved,
        coalesce(public_replies.public_replies, 0) as public_replies,
        coalesce(first_replies.first_replies, 0) as first_replies,
        first_replies.median_first_reply_minutes,
        first_replies.p90_first_reply_minutes,
        coalesce(solves.one_touch_solved, 0) as one_touch_solved,
        coalesce(solves.reopened_after_solve, 0) as reopened_after_solve,
        coalesce(satisfaction.csat_good, 0) as csat_good,
        coalesce(satisfaction.csat_bad, 0) as csat_bad
    from agent_days
    left join users
        on agent_days.tenant_id = users.tenant_id
        and agent_days.agent_id = users.user_id
    left join public_replies
        on agent_days.tenant_id = public_replies.tenant_id
        and agent_days.agent_id = public_replies.agent_id
        and agent_days.activity_date = public_replies.activity_date
    left join first_replies
        on agent_days.tenant_id = first_replies.tenant_id
        and agent_days.agent_id = first_replies.agent_id
        and agent_days.activity_date = first_replies.activity_date
    left join solves
        on agent_days.tenant_id = solves.tenant_id
        and agent_days.agent_id = solves.agent_id
        and agent_days.activity_date = solves.activity_date
    left join satisfaction
        on agent_days.tenant_id = satisfaction.tenant_id
        and agent_days.agent_id = satisfaction.agent_id
        and agent_days.activity_date = satisfaction.activity_date

),

final as (

    select
        cast(tenant_id as varchar) as tenant_id,
        cast(agent_key as varchar) as agent_key,
        cast(activity_date as date) as activity_date,
        cast(tickets_solved as bigint) as tickets_solved,
        cast(public_replies as bigint) as public_replies,
        cast(first_replies as bigint) as first_replies,
        cast(median_first_reply_minutes as double precision) as median_first_reply_minutes,
        cast(p90_first_reply_minutes as double precision) as p90_first_reply_minutes,
        cast(one_touch_solved as bigint) as one_touch_solved,
        cast(reopened_after_solve as bigint) as reopened_after_solve,
        cast(csat_good as bigint) as csat_good,
        cast(csat_bad as bigint) as csat_bad,
        cast(
            case
                when csat_good + csat_bad > 0 then csat_good * 1.0 / (csat_good + csat_bad)
            end as double precision
        ) as csat_pct
    from joined

)

select * from final
