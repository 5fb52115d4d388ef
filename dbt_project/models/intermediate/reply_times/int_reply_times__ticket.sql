-- First reply time and public agent replies per ticket. The first reply is the first public
-- agent reply strictly after the first public end-user comment; either missing means no first
-- reply (an agent-opened ticket nobody answered). Incremental by ticket.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}

with

changed as (

    {{ deskpulse.changed_tickets(since) }}

),

tickets as (

    select tickets.tenant_id, tickets.ticket_id, tickets.status, changed.refreshed_at
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join changed
        on tickets.tenant_id = changed.tenant_id
        and tickets.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('tickets', since) }}

),

timeline as (

    select timeline.*
    from {{ ref('int_ticket_timeline__audit') }} as timeline
    inner join changed
        on timeline.tenant_id = changed.tenant_id
        and timeline.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('timeline', since) }}
    where timeline.is_public_end_user_comment
        or timeline.is_public_agent_reply

),

first_end_user_comments as (

    select
        tenant_id,
        ticket_id,
        min(created_at) as first_end_user_comment_at
    from timeline
    where is_public_end_user_comment
    group by tenant_id, ticket_id

),

agent_reply_counts as (

    select
        tenant_id,
        ticket_id,
        count(*) as agent_replies
    from timeline
    where is_public_agent_reply
    group by tenant_id, ticket_id

),

later_agent_replies as (

    select
        timeline.tenant_id,
        timeline.ticket_id,
        timeline.created_at,
        timeline.created_date,
        timeline.comment_author_id,
        timeline.group_id_after_audit,
        row_number() over (
            partition by timeline.tenant_id, timeline.ticket_id
            order by timeline.audit_sequence
        ) as reply_rank
    from timeline
    inner join first_end_user_comments
        on timeline.tenant_id = first_end_user_comments.tenant_id
        and timeline.ticket_id = first_end_user_comments.ticket_id
    where timeline.is_public_agent_reply
        and timeline.created_at > first_end_user_comments.first_end_user_comment_at

),

first_replies as (

    select * from later_agent_replies where reply_rank = 1

),

final as (

    select
        tickets.tenant_id,
        tickets.ticket_id,
        first_end_user_comments.first_end_user_comment_at,
        first_replies.created_at as first_reply_at,
        first_replies.created_date as first_reply_date,
        first_replies.comment_author_id as first_reply_agent_id,
        first_replies.group_id_after_audit as first_reply_group_id,
        {{ deskpulse.minutes_between(
            'first_end_user_comments.first_end_user_comment_at',
            'first_replies.created_at'
        ) }} as first_reply_minutes,
        coalesce(agent_reply_counts.agent_replies, 0) as agent_replies,
        coalesce(tickets.status = 'deleted', false) as is_ticket_deleted,
        tickets.refreshed_at
    from tickets
    left join first_end_user_comments
        on tickets.tenant_id = first_end_user_comments.tenant_id
        and tickets.ticket_id = first_end_user_comments.ticket_id
    left join first_replies
        on tickets.tenant_id = first_replies.tenant_id
        and tickets.ticket_id = first_replies.ticket_id
    left join agent_reply_counts
        on tickets.tenant_id = agent_reply_counts.tenant_id
        and tickets.ticket_id = agent_reply_counts.ticket_id

)

select * from final
