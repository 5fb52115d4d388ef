-- One row per ticket and metric that deskpulse or Zendesk has a figure for: ours (fct_tickets),
-- Zendesk's own (the ticket's metric set), the difference, and why they differ, from the list
-- in docs/metrics.md ("Reconciliation with Zendesk's figures"). A difference of less than a
-- minute is equal: Zendesk counts whole minutes, deskpulse seconds / 60. Incremental by ticket
-- (macros/incremental/changed_tickets.sql): Zendesk updates a metric set with its ticket.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_tickets() }}",
) }}

-- the pre-hook deletes the rows of the changed tickets:
-- depends_on: {{ ref('int_ticket_changes__ticket') }}

{%- set since = deskpulse.refreshed_since(is_incremental()) %}
{#- metric, unit, our column, Zendesk's column; calendar minutes only: the business-minute
    figures depend on the schedule each side applies and are left out (DECISIONLOG.md) -#}
{%- set metrics = [
    ('first_reply_time', 'minutes', 'first_reply_minutes', 'reply_time_calendar_minutes'),
    ('first_resolution_time', 'minutes', 'first_resolution_minutes',
        'first_resolution_time_calendar_minutes'),
    ('full_resolution_time', 'minutes', 'full_resolution_minutes',
        'full_resolution_time_calendar_minutes'),
    ('requester_wait_time', 'minutes', 'requester_wait_minutes',
        'requester_wait_time_calendar_minutes'),
    ('reopens', 'count', 'reopens', 'reopens'),
    ('replies', 'count', 'agent_replies', 'replies'),
] %}

with

{% if since is not none %}

changed as (

    {{ deskpulse.changed_tickets(since) }}

),

{% endif %}

measures as (

    select
        measures.tenant_id,
        measures.ticket_id,
        measures.created_at,
        measures.status,
        measures.is_stale_upstream,
        measures.refreshed_at,
        {%- for metric in metrics %}
        measures.{{ metric[2] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_ticket_measures__ticket') }} as measures
    where {{ deskpulse.refreshed_rows('measures', since) }}

),

first_comments as (

    select reply_times.tenant_id, reply_times.ticket_id, reply_times.first_end_user_comment_at
    from {{ ref('int_reply_times__ticket') }} as reply_times
    where {{ deskpulse.refreshed_rows('reply_times', since) }}

),

platform_metrics as (

    select
        platform_metrics.tenant_id,
        platform_metrics.ticket_id,
        {%- for metric in metrics %}
        platform_metrics.{{ metric[3] }} as platform_{{ metric[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_zendesk__ticket_metrics') }} as platform_metrics
    where {{ deskpulse.in_changed_tickets('platform_metrics', since) }}

),

tickets as (

    select
        measures.*,
        platform_metrics.tenant_id is not null as has_platform_metrics,
        -- the ticket did not start with a public end-user comment: an agent opened it
        coalesce(first_comments.first_end_user_comment_at > measures.created_at, true)
            as is_agent_opened,
        {%- for metric in metrics %}
        platform_metrics.platform_{{ metric[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from measures
    left join first_comments
        on measures.tenant_id = first_comments.tenant_id
        and measures.ticket_id = first_comments.ticket_id
    left join platform_metrics
        on measures.tenant_id = platform_metrics.tenant_id
        and measures.ticket_id = platform_metrics.ticket_id

),

compared as (

    {%- for metric in metrics %}

    select
        tenant_id,
        ticket_id,
        status,
        is_stale_upstream,
        has_platform_metrics,
        is_agent_opened,
        refreshed_at,
        '{{ metric[0] }}' as metric,
        '{{ metric[1] }}' as unit,
        cast({{ metric[2] }} as {{ deskpulse.warehouse_type('double precision') }}) as deskpulse_value,
        cast(platform_{{ metric[0] }} as {{ deskpulse.warehouse_type('double precision') }})
            as platform_value
    from tickets
    where {{ metric[2] }} is not null or platform_{{ metric[0] }} is not null
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

-- the first reason that applies, in the order of the list in docs/metrics.md
explained as (

    select
        compared.*,
        case
            when abs(deskpulse_value - platform_value) < 1 then 'equal'
            when status = 'deleted' then 'deleted'
            when not has_platform_metrics then 'platform_missing'
            when is_stale_upstream then 'event_missing'
            -- solved without a requester wait: the creating audit predates the loaded history
            when metric = 'requester_wait_time' and deskpulse_value is null
                and status in ('solved', 'closed') then 'event_missing'
            when metric = 'first_reply_time' and is_agent_opened then 'agent_opened'
            else 'unexplained'
        end as reason
    from compared

),

final as (

    select
        cast(tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(ticket_id as bigint) as ticket_id,
        cast(metric as {{ deskpulse.warehouse_type('varchar') }}) as metric,
        cast(unit as {{ deskpulse.warehouse_type('varchar') }}) as unit,
        deskpulse_value,
        platform_value,
        cast(deskpulse_value - platform_value as {{ deskpulse.warehouse_type('double precision') }})
            as difference,
        cast(reason as {{ deskpulse.warehouse_type('varchar') }}) as reason,
        cast(refreshed_at as {{ dbt.type_timestamp() }}) as refreshed_at
    from explained

)

select * from final
