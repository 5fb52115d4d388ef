-- Every person a tenant's data names, and who is an agent (docs/metrics.md): anyone who had the agent
-- or admin role in any version of the user seen by the pipeline, or was ever a ticket's assignee.
-- An agent stays an agent after a deactivation or a role downgrade, so the latest role is kept
-- only for information.
--
-- A person is known by a user record or by reference alone (an assignee, a requester or a rated
-- assignee the users export did not return). Either way the key is the loader's HMAC of the
-- platform id, which the loader writes beside every such reference, so no one named by a ticket
-- is left without a key.

with

user_versions as (

    select * from {{ ref('stg_zendesk__users') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

ratings as (

    select * from {{ ref('stg_zendesk__satisfaction_ratings') }}

),

assignee_changes as (

    -- every distinct (new assignee, assignee before) of the assignee events with their keys: a
    -- few thousand pairs however many events, so the events are read once for both
    select distinct
        tenant_id,
        nullif(field_value, '') as assignee_value,
        field_value_key as assignee_key,
        case when event_type = 'Change' then nullif(previous_field_value, '') end as previous_value,
        case when event_type = 'Change' then previous_field_value_key end as previous_key
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

assignee_references as (

    select tenant_id, assignee_id as user_id, assignee_key as reference_key
    from tickets
    where assignee_id is not null

    union

    select tenant_id, cast(assignee_value as bigint), assignee_key
    from assignee_changes
    where assignee_value is not null

    union

    select tenant_id, cast(previous_value as bigint), previous_key
    from assignee_changes
    where previous_value is not null

    union

    -- the assignee a rating was recorded for was the ticket's assignee then, even when the
    -- assignment itself predates the loaded history
    select tenant_id, assignee_id, assignee_key
    from ratings
    where assignee_id is not null

),

references_seen as (

    select tenant_id, user_id, reference_key, 1 as is_assignee_reference
    from assignee_references

    union all

    select tenant_id, requester_id, requester_key, 0
    from tickets
    where requester_id is not null

),

referenced as (

    -- one row per person referenced, with the key of any of their rows that carries one
    select
        tenant_id,
        user_id,
        max(reference_key) as reference_key,
        max(is_assignee_reference) as was_assignee_flag
    from references_seen
    group by tenant_id, user_id

),

known_users as (

    select tenant_id, user_id from role_history
    union
    select tenant_id, user_id from referenced

),

final as (

    select
        known_users.tenant_id,
        known_users.user_id,
        coalesce(ranked_versions.user_key, referenced.reference_key) as user_key,
        ranked_versions.user_role as latest_role,
        ranked_versions.is_active as is_active,
        ranked_versions.default_group_id,
        ranked_versions.updated_at as latest_version_at,
        coalesce(role_history.versions_seen, 0) as versions_seen,
        ranked_versions.user_id is null as is_referenced_only,
        coalesce(role_history.had_agent_role_flag = 1, false) as had_agent_role,
        coalesce(referenced.was_assignee_flag = 1, false) as was_assignee,
        (
            coalesce(role_history.had_agent_role_flag = 1, false)
            or coalesce(referenced.was_assignee_flag = 1, false)
        ) as is_agent
    from known_users
    left join ranked_versions
        on known_users.tenant_id = ranked_versions.tenant_id
        and known_users.user_id = ranked_versions.user_id
        and ranked_versions.version_rank = 1
    left join role_history
        on known_users.tenant_id = role_history.tenant_id
        and known_users.user_id = role_history.user_id
    left join referenced
        on known_users.tenant_id = referenced.tenant_id
        and known_users.user_id = referenced.user_id

)

select * from final
