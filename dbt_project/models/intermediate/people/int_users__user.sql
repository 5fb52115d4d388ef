-- Who is an agent (docs/metrics.md): anyone who had the agent or admin role in any version of the
-- user seen by the pipeline, or was ever a ticket's assignee. An agent stays an agent after a
-- deactivation or a role downgrade, so the latest role is kept only for information.

with

user_versions as (

    select * from {{ ref('stg_zendesk__users') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

assignee_changes as (

    -- every distinct (new assignee, assignee before) of the assignee events: a few thousand
    -- pairs however many events, so the events are read once for both
    select distinct
        tenant_id,
        nullif(field_value, '') as assignee_value,
        case when event_type = 'Change' then nullif(previous_field_value, '') end as previous_value
    from {{ ref('stg_zendesk__ticket_events') }}
    where field_name = 'assignee_id'
        and event_type in ('Create', 'Change')

),

ranked_versions as (

    select
        tenant_id,
        user_id,
        user_key,
        user_role,
        is_active,
        default_group_id,
        updated_at,
        row_number() over (
            partition by tenant_id, user_id
            order by updated_at desc
        ) as version_rank
    from user_versions

),

role_history as (

    select
        tenant_id,
        user_id,
        max(case when user_role in ('agent', 'admin') then 1 else 0 end) as had_agent_role_flag,
        count(*) as versions_seen
    from user_versions
    group by tenant_id, user_id

),

assignees as (

    select tenant_id, assignee_id as user_id
    from tickets
    where assignee_id is not null

    union

    select tenant_id, cast(assignee_value as bigint) as user_id
    from assignee_changes
    where assignee_value is not null

    union

    select tenant_id, cast(previous_value as bigint) as user_id
    from assignee_changes
    where previous_value is not null

),

known_users as (

    select tenant_id, user_id from role_history
    union
    select tenant_id, user_id from assignees

),

final as (

    select
        known_users.tenant_id,
        known_users.user_id,
        ranked_versions.user_key,
        ranked_versions.user_role as latest_role,
        ranked_versions.is_active as is_active,
        ranked_versions.default_group_id,
        ranked_versions.updated_at as latest_version_at,
        coalesce(role_history.versions_seen, 0) as versions_seen,
        coalesce(role_history.had_agent_role_flag = 1, false) as had_agent_role,
        assignees.user_id is not null as was_assignee,
        (
            coalesce(role_history.had_agent_role_flag = 1, false)
            or assignees.user_id is not null
        ) as is_agent
    from known_users
    left join ranked_versions
        on known_users.tenant_id = ranked_versions.tenant_id
        and known_users.user_id = ranked_versions.user_id
        and ranked_versions.version_rank = 1
    left join role_history
        on known_users.tenant_id = role_history.tenant_id
        and known_users.user_id = role_history.user_id
    left join assignees
        on known_users.tenant_id = assignees.tenant_id
        and known_users.user_id = assignees.user_id

)

select * from final
