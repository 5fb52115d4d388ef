-- Every piece of agent work on a ticket, credited as it happened: each public agent reply to its
-- author, each ticket's first reply to its author, each next reply (a later reply answering the
-- end user's comments since the previous one, timed from the earliest) to its author, each solve
-- to the assignee in force once the solve's audit is applied (with the solved ticket's figures),
-- each good or bad rating to the rating's assignee, each internal note to its author, each
-- update (audit) an agent made to that agent, each assignment to the agent assigned and each
-- reassignment to the agent it was taken from; and each to the ticket's group at that moment
-- (the rating's group for ratings). Days are tenant days. The daily, weekly and team marts all
-- roll up these rows, so every ratio and percentile is recomputed from ticket-level rows.
-- Deleted tickets keep their rows, flagged, so that their old figures leave the marts when they
-- are deleted. Incremental by ticket.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}

{#- the audits of the recomputed tickets, read by each kind of work on its own: a CTE shared by
    all of them is materialised whole (5.5 million rows at a million tickets), past the memory
    bound, and read back from disk by every one. An upstream incremental model's rows carry
    their ticket's stamp of int_ticket_changes__ticket, so the stamp alone finds them. -#}
{%- set timeline -%}
    (
        select *
        from {{ ref('int_ticket_timeline__audit') }} as timeline
        where {{ deskpulse.refreshed_rows('timeline', since) }}
    )
{%- endset %}

{#- the solved ticket's figures, which only solve rows carry -#}
{%- set no_ticket_figures -%}
        cast(null as boolean),
        cast(null as boolean),
        cast(null as bigint),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }})
{%- endset %}

with

changed as (

    {{ deskpulse.changed_tickets(since) }}

),

reply_times as (

    select reply_times.*, changed.refreshed_at as changed_at
    from {{ ref('int_reply_times__ticket') }} as reply_times
    inner join changed
        on reply_times.tenant_id = changed.tenant_id
        and reply_times.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('reply_times', since) }}
    where reply_times.first_reply_at is not null

),

resolution as (

    select
        resolution.tenant_id,
        resolution.ticket_id,
        resolution.is_one_touch,
        resolution.agent_replies,
        resolution.first_resolution_minutes <= 1440 as is_solved_within_a_day,
        resolution.requester_wait_minutes,
        resolution.agent_work_minutes
    from {{ ref('int_resolution__ticket') }} as resolution
    inner join changed
        on resolution.tenant_id = changed.tenant_id
        and resolution.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('resolution', since) }}

),

business_minutes as (

    select business_minutes.tenant_id, business_minutes.ticket_id,
        business_minutes.first_reply_business_minutes
    from {{ ref('int_business_minutes__ticket') }} as business_minutes
    inner join changed
        on business_minutes.tenant_id = changed.tenant_id
        and business_minutes.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('business_minutes', since) }}

),

ratings as (

    select ratings.*, changed.refreshed_at as changed_at
    from {{ ref('int_satisfaction_ratings__rating') }} as ratings
    inner join changed
        on ratings.tenant_id = changed.tenant_id
        and ratings.ticket_id = changed.ticket_id
        and {{ deskpulse.refreshed_rows('ratings', since) }}
    where ratings.is_rated

),

last_reopens as (

    select tenant_id, ticket_id, max(audit_sequence) as last_reopen_sequence
    from {{ timeline }} as timeline
    where is_reopen_event
    group by tenant_id, ticket_id

),

-- the public conversation, agent replies and end-user comments in audit order, each row with
-- the agent replies and the end-user comments before it: an agent reply and the end-user
-- comments since the previous one share the count of replies (one turn of the conversation)
conversation_turns as (

    select
        tenant_id,
        ticket_id,
        audit_id,
        audit_sequence,
        created_at,
        created_date,
        comment_author_id,
        group_id_after_audit,
        is_public_agent_reply,
        is_ticket_deleted,
        refreshed_at,
        coalesce(sum(case when is_public_agent_reply then 1 else 0 end) over (
            partition by tenant_id, ticket_id
            order by audit_sequence
            rows between unbounded preceding and 1 preceding
        ), 0) as replies_before,
        coalesce(sum(case when is_public_agent_reply then 0 else 1 end) over (
            partition by tenant_id, ticket_id
            order by audit_sequence
            rows between unbounded preceding and 1 preceding
        ), 0) as comments_before
    from {{ timeline }} as timeline
    where is_public_agent_reply or is_public_end_user_comment

),

-- the end-user comments an agent reply answers: those of its turn, from the earliest
turns as (

    select
        conversation_turns.*,
        sum(case when is_public_agent_reply then 0 else 1 end) over (
            partition by tenant_id, ticket_id, replies_before
        ) as comments_in_turn,
        min(case when not is_public_agent_reply then created_at end) over (
            partition by tenant_id, ticket_id, replies_before
        ) as waiting_since
    from conversation_turns

),

-- a next reply answers end-user comments after the ticket's first reply: its turn has
-- comments and an earlier turn had some (the turn holding the first end-user comment is the
-- first reply's)
next_replies as (

    select *
    from turns
    where is_public_agent_reply
        and comments_in_turn > 0
        and comments_before > comments_in_turn

),

activities as (

    select
        timeline.tenant_id,
        timeline.ticket_id,
        'solve' as activity_type,
        timeline.audit_id as activity_id,
        timeline.created_at as activity_at,
        timeline.created_date as activity_date,
        timeline.assignee_id_after_audit as agent_id,
        timeline.group_id_after_audit as group_id,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}) as first_reply_minutes,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}) as first_reply_business_minutes,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}) as next_reply_minutes,
        coalesce(last_reopens.last_reopen_sequence > timeline.audit_sequence, false)
            as is_reopened_after,
        coalesce(resolution.is_one_touch, false) as is_one_touch,
        coalesce(resolution.is_solved_within_a_day, false) as is_solved_within_a_day,
        resolution.agent_replies as ticket_agent_replies,
        resolution.requester_wait_minutes as ticket_requester_wait_minutes,
        resolution.agent_work_minutes as ticket_agent_work_minutes,
        cast(null as {{ dbt.type_string() }}) as score,
        timeline.is_ticket_deleted,
        timeline.refreshed_at
    from {{ timeline }} as timeline
    left join last_reopens
        on timeline.tenant_id = last_reopens.tenant_id
        and timeline.ticket_id = last_reopens.ticket_id
    left join resolution
        on timeline.tenant_id = resolution.tenant_id
        and timeline.ticket_id = resolution.ticket_id
    where timeline.is_solve_event

    union all

    select
        tenant_id,
        ticket_id,
        'next_reply',
        audit_id,
        created_at,
        created_date,
        comment_author_id,
        group_id_after_audit,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        {{ deskpulse.minutes_between('waiting_since', 'created_at') }},
        cast(null as boolean),
        {{ no_ticket_figures }},
        cast(null as {{ dbt.type_string() }}),
        is_ticket_deleted,
        refreshed_at
    from next_replies

    union all

    select
        reply_times.tenant_id,
        reply_times.ticket_id,
        'first_reply',
        0,
        reply_times.first_reply_at,
        reply_times.first_reply_date,
        reply_times.first_reply_agent_id,
        reply_times.first_reply_group_id,
        reply_times.first_reply_minutes,
        business_minutes.first_reply_business_minutes,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as boolean),
        {{ no_ticket_figures }},
        cast(null as {{ dbt.type_string() }}),
        reply_times.is_ticket_deleted,
        reply_times.changed_at
    from reply_times
    left join business_minutes
        on reply_times.tenant_id = business_minutes.tenant_id
        and reply_times.ticket_id = business_minutes.ticket_id

    union all

    select
        tenant_id,
        ticket_id,
        'rating',
        satisfaction_rating_id,
        created_at,
        created_date,
        assignee_id,
        group_id,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as boolean),
        {{ no_ticket_figures }},
        score,
        is_ticket_deleted,
        changed_at
    from ratings

    {#- audits credited whole: (activity type, the agent credited, which audits) #}
    {%- for activity_type, agent, condition in [
        ('public_reply', 'comment_author_id', 'is_public_agent_reply'),
        ('internal_note', 'comment_author_id', 'is_internal_note'),
        ('update', 'updater_id', 'is_agent_update'),
        ('assignment', 'assignee_id_after_audit',
         'assignee_id_after_audit is not null'
         ~ ' and assignee_id_after_audit is distinct from assignee_id_before_audit'),
        ('reassignment_away', 'assignee_id_before_audit',
         'assignee_id_before_audit is not null'
         ~ ' and assignee_id_after_audit is distinct from assignee_id_before_audit'),
    ] %}

    union all

    select
        tenant_id,
        ticket_id,
        '{{ activity_type }}',
        audit_id,
        created_at,
        created_date,
        {{ agent }},
        group_id_after_audit,
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as {{ deskpulse.warehouse_type('double precision') }}),
        cast(null as boolean),
        {{ no_ticket_figures }},
        cast(null as {{ dbt.type_string() }}),
        is_ticket_deleted,
        refreshed_at
    from {{ timeline }} as timeline
    where {{ condition }}
    {%- endfor %}

),

final as (

    select
        tenant_id,
        ticket_id,
        activity_type,
        activity_id,
        activity_at,
        activity_date,
        cast({{ dbt.date_trunc('week', 'activity_date') }} as date) as activity_week,
        agent_id,
        group_id,
        first_reply_minutes,
        first_reply_business_minutes,
        next_reply_minutes,
        is_reopened_after,
        is_one_touch,
        is_solved_within_a_day,
        ticket_agent_replies,
        ticket_requester_wait_minutes,
        ticket_agent_work_minutes,
        score,
        is_ticket_deleted,
        refreshed_at
    from activities

)

select * from final
