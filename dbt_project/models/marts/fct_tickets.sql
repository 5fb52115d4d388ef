with

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

reply_times as (

    select * from {{ ref('int_reply_times__ticket') }}

),

resolution as (

    select * from {{ ref('int_resolution__ticket') }}

),

latest_ratings as (

    select tenant_id, ticket_id, score
    from {{ ref('int_satisfaction_ratings__rating') }}
    where is_latest_rating

),

users as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}

),

groups as (

    select tenant_id, group_id, group_key from {{ ref('stg_zendesk__groups') }}

),

final as (

    select
        cast(tickets.tenant_id as varchar) as tenant_id,
        cast(tickets.ticket_id as bigint) as ticket_id,
        cast(tickets.created_at as timestamp with time zone) as created_at,
        cast(tickets.status as varchar) as status,
        cast(resolution.is_deleted as boolean) as is_deleted,
        cast(tickets.via_channel as varchar) as via_channel,
        cast(requesters.user_key as varchar) as requester_key,
        cast(assignees.user_key as varchar) as assignee_key,
        cast(groups.group_key as varchar) as group_key,
        cast(reply_times.first_reply_at as timestamp with time zone) as first_reply_at,
        cast(reply_times.first_reply_minutes as double precision) as first_reply_minutes,
        cast(first_repliers.user_key as varchar) as first_reply_agent_key,
        cast(resolution.first_solved_at as timestamp with time zone) as first_solved_at,
        cast(resolution.final_solved_at as timestamp with time zone) as final_solved_at,
        cast(resolution.first_resolution_minutes as double precision)
            as first_resolution_minutes,
        cast(resolution.full_resolution_minutes as double precision)
            as full_resolution_minutes,
        cast(resolution.agent_replies as bigint) as agent_replies,
        cast(resolution.reopens as bigint) as reopens,
        cast(resolution.is_one_touch as boolean) as is_one_touch,
        cast(latest_ratings.score as varchar) as csat_score
    from tickets
    left join reply_times
        on tickets.tenant_id = reply_times.tenant_id
        and tickets.ticket_id = reply_times.ticket_id
    left join resolution
        on tickets.tenant_id = resolution.tenant_id
        and tickets.ticket_id = resolution.ticket_id
    left join latest_ratings
        on tickets.tenant_id = latest_ratings.tenant_id
        and tickets.ticket_id = latest_ratings.ticket_id
    left join users as requesters
        on tickets.tenant_id = requesters.tenant_id
        and tickets.requester_id = requesters.user_id
    left join users as assignees
        on tickets.tenant_id = assignees.tenant_id
        and tickets.assignee_id = assignees.user_id
    left join users as first_repliers
        on reply_times.tenant_id = first_repliers.tenant_id
        and reply_times.first_reply_agent_id = first_repliers.user_id
    left join groups
        on tickets.tenant_id = groups.tenant_id
        and tickets.group_id = groups.group_id

)

select * from final
