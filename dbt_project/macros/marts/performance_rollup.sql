{#
    The performance figures of docs/metrics.md rolled up from ticket-level activity rows
    (int_ticket_activity__activity) to one row per tenant, `entity` (agent_id or group_id) and
    `period` (activity_date or activity_week). Counts are counted and every ratio and
    percentile is computed from the ticket-level rows of the cell, never from finer cells.
    Deleted tickets are left out. Renders a CTE chain ending in `rolled_up` with the columns
    tenant_id, entity_id, period, tickets_solved, public_replies, first_replies,
    median/p90_first_reply_minutes, median_first_reply_business_minutes, one_touch_solved,
    reopened_after_solve, solved_within_a_day, replies_per_solved_ticket, csat_good, csat_bad,
    csat_pct, tickets_assigned, tickets_touched, internal_notes, reassignments_away,
    next_replies, median/p90_next_reply_minutes, median_requester_wait_minutes,
    median_agent_work_minutes.

    Incremental (macros/incremental/changed_periods.sql): `days` is the length of a period;
    an incremental run rolls up only the cells it recomputes, those of the `recomputed` bounds.
#}
{% macro performance_rollup(entity, period, days, incremental) %}
{#- each kind of work is read from the activity rows on its own (a CTE shared by all four would
    be materialised in full by some engines); the small per-tenant bounds are one CTE -#}
{%- set activity -%}
    (
        select
            activity.tenant_id,
            activity.ticket_id,
            activity.activity_type,
            activity.{{ entity }} as entity_id,
            activity.{{ period }} as period,
            activity.first_reply_minutes,
            activity.first_reply_business_minutes,
            activity.is_reopened_after,
            activity.is_one_touch,
            activity.is_solved_within_a_day,
            activity.ticket_agent_replies,
            activity.next_reply_minutes,
            activity.ticket_requester_wait_minutes,
            activity.ticket_agent_work_minutes,
            activity.score
        from {{ ref('int_ticket_activity__activity') }} as activity
        {%- if incremental %}
        inner join recomputed as changed
            on activity.tenant_id = changed.tenant_id
            and {{ deskpulse.period_is_recomputed('activity.' ~ period, days) }}
        {%- endif %}
        where not activity.is_ticket_deleted
            and activity.{{ entity }} is not null
    )
{%- endset %}

{%- if incremental %}
recomputed as (

    {{ deskpulse.recompute_bounds(incremental) }}

),
{%- endif %}

public_replies as (

    select tenant_id, entity_id, period, count(*) as public_replies
    from {{ activity }} as activity
    where activity_type = 'public_reply'
    group by tenant_id, entity_id, period

),

first_replies as (

    select
        tenant_id,
        entity_id,
        period,
        count(*) as first_replies,
        {{ deskpulse.percentile_cont('first_reply_minutes', 0.5) }} as median_first_reply_minutes,
        {{ deskpulse.percentile_cont('first_reply_minutes', 0.9) }} as p90_first_reply_minutes,
        {{ deskpulse.percentile_cont('first_reply_business_minutes', 0.5) }}
            as median_first_reply_business_minutes
    from {{ activity }} as activity
    where activity_type = 'first_reply'
    group by tenant_id, entity_id, period

),

next_replies as (

    select
        tenant_id,
        entity_id,
        period,
        count(*) as next_replies,
        {{ deskpulse.percentile_cont('next_reply_minutes', 0.5) }} as median_next_reply_minutes,
        {{ deskpulse.percentile_cont('next_reply_minutes', 0.9) }} as p90_next_reply_minutes
    from {{ activity }} as activity
    where activity_type = 'next_reply'
    group by tenant_id, entity_id, period

),

solved_tickets as (

    -- one row per ticket solved in the cell; reopened when reopened after the cell's first
    -- solve of it, which is when any of its solves in the cell was (a reopen after a later
    -- solve is also after the first): a solve, reopen and second solve counts as reopened
    select
        tenant_id,
        entity_id,
        period,
        ticket_id,
        max(case when is_one_touch then 1 else 0 end) as is_one_touch,
        max(case when is_solved_within_a_day then 1 else 0 end) as is_solved_within_a_day,
        max(ticket_agent_replies) as ticket_agent_replies,
        max(ticket_requester_wait_minutes) as requester_wait_minutes,
        max(ticket_agent_work_minutes) as agent_work_minutes,
        max(case when is_reopened_after then 1 else 0 end) as is_reopened_after_first_solve
    from {{ activity }} as activity
    where activity_type = 'solve'
    group by tenant_id, entity_id, period, ticket_id

),

solves as (

    select
        tenant_id,
        entity_id,
        period,
        count(*) as tickets_solved,
        sum(is_one_touch) as one_touch_solved,
        sum(is_reopened_after_first_solve) as reopened_after_solve,
        sum(is_solved_within_a_day) as solved_within_a_day,
        avg(ticket_agent_replies * 1.0) as replies_per_solved_ticket,
        {{ deskpulse.percentile_cont('requester_wait_minutes', 0.5) }} as median_requester_wait_minutes,
        {{ deskpulse.percentile_cont('agent_work_minutes', 0.5) }} as median_agent_work_minutes
    from solved_tickets
    group by tenant_id, entity_id, period

),

satisfaction as (

    select
        tenant_id,
        entity_id,
        period,
        sum(case when score = 'good' then 1 else 0 end) as csat_good,
        sum(case when score = 'bad' then 1 else 0 end) as csat_bad
    from {{ activity }} as activity
    where activity_type = 'rating'
    group by tenant_id, entity_id, period

),

-- audits credited whole: tickets assigned and touched count each ticket once in the cell
handling as (

    select
        tenant_id,
        entity_id,
        period,
        count(distinct case when activity_type = 'assignment' then ticket_id end) as tickets_assigned,
        count(distinct case when activity_type = 'update' then ticket_id end) as tickets_touched,
        sum(case when activity_type = 'internal_note' then 1 else 0 end) as internal_notes,
        sum(case when activity_type = 'reassignment_away' then 1 else 0 end) as reassignments_away
    from {{ activity }} as activity
    where activity_type in ('assignment', 'update', 'internal_note', 'reassignment_away')
    group by tenant_id, entity_id, period

),

cells as (

    select tenant_id, entity_id, period from public_replies
    union
    select tenant_id, entity_id, period from first_replies
    union
    select tenant_id, entity_id, period from next_replies
    union
    select tenant_id, entity_id, period from solves
    union
    select tenant_id, entity_id, period from satisfaction
    union
    select tenant_id, entity_id, period from handling

),

rolled_up as (

    select
        cells.tenant_id,
        cells.entity_id,
        cells.period,
        coalesce(solves.tickets_solved, 0) as tickets_solved,
        coalesce(public_replies.public_replies, 0) as public_replies,
        coalesce(first_replies.first_replies, 0) as first_replies,
        first_replies.median_first_reply_minutes,
        first_replies.p90_first_reply_minutes,
        first_replies.median_first_reply_business_minutes,
        coalesce(solves.one_touch_solved, 0) as one_touch_solved,
        coalesce(solves.reopened_after_solve, 0) as reopened_after_solve,
        coalesce(solves.solved_within_a_day, 0) as solved_within_a_day,
        solves.replies_per_solved_ticket,
        coalesce(satisfaction.csat_good, 0) as csat_good,
        coalesce(satisfaction.csat_bad, 0) as csat_bad,
        case
            when coalesce(satisfaction.csat_good, 0) + coalesce(satisfaction.csat_bad, 0) > 0
                then satisfaction.csat_good * 1.0 / (satisfaction.csat_good + satisfaction.csat_bad)
        end as csat_pct,
        coalesce(handling.tickets_assigned, 0) as tickets_assigned,
        coalesce(handling.tickets_touched, 0) as tickets_touched,
        coalesce(handling.internal_notes, 0) as internal_notes,
        coalesce(handling.reassignments_away, 0) as reassignments_away,
        coalesce(next_replies.next_replies, 0) as next_replies,
        next_replies.median_next_reply_minutes,
        next_replies.p90_next_reply_minutes,
        solves.median_requester_wait_minutes,
        solves.median_agent_work_minutes
    from cells
    {%- for cte in ['public_replies', 'first_replies', 'next_replies', 'solves', 'satisfaction',
                    'handling'] %}
    left join {{ cte }}
        on cells.tenant_id = {{ cte }}.tenant_id
        and cells.entity_id = {{ cte }}.entity_id
        and cells.period = {{ cte }}.period
    {%- endfor %}

)

{% endmacro %}


{# The figures of `rolled_up`, typed as the marts' contracts declare them. #}
{% macro performance_figures() %}
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
        cast(rolled_up.solved_within_a_day as bigint) as solved_within_a_day,
        cast(rolled_up.replies_per_solved_ticket as {{ deskpulse.warehouse_type('double precision') }})
            as replies_per_solved_ticket,
        cast(rolled_up.csat_good as bigint) as csat_good,
        cast(rolled_up.csat_bad as bigint) as csat_bad,
        cast(rolled_up.csat_pct as {{ deskpulse.warehouse_type('double precision') }}) as csat_pct,
        cast(rolled_up.tickets_assigned as bigint) as tickets_assigned,
        cast(rolled_up.tickets_touched as bigint) as tickets_touched,
        cast(rolled_up.internal_notes as bigint) as internal_notes,
        cast(rolled_up.reassignments_away as bigint) as reassignments_away,
        cast(rolled_up.next_replies as bigint) as next_replies,
        cast(rolled_up.median_next_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_next_reply_minutes,
        cast(rolled_up.p90_next_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as p90_next_reply_minutes,
        cast(rolled_up.median_requester_wait_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as median_requester_wait_minutes,
        cast(rolled_up.median_agent_work_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_agent_work_minutes,
        {{ deskpulse.run_started_literal() }} as refreshed_at
{% endmacro %}
