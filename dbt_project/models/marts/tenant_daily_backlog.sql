-- One row per tenant and tenant day, from the start of its loaded history to its last audit: the
-- backlog at the end of the day and the day's created, carried-in, solved and reopened tickets.
-- Deleted tickets are left out on every day. The backlog is the running sum of the days' entries
-- into and exits from the open statuses (int_ticket_status__ticket_day), so days without any
-- change carry the previous day's backlog.
-- Incremental by period (macros/incremental/changed_periods.sql): a run recomputes, per tenant
-- with changed tickets, the days from the earliest day they can touch, starting from the
-- backlog of the last day it keeps; days before a retention purge's `kept_before` are never
-- recomputed, so the history outlives the purged tickets.

-- depends_on: {{ ref('int_ticket_changes__ticket') }}
-- depends_on: {{ ref('stg_zendesk__tickets') }}
-- depends_on: {{ ref('int_tenant_retention__tenant') }}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_changed_periods('activity_date', 1) }}",
) }}

{%- set incremental = is_incremental() %}

with

{% if incremental %}

recomputed as (

    {{ deskpulse.recompute_bounds(incremental) }}

),

opening as (

    -- per recomputed tenant, the last day it keeps (the pre-hook removed the days recomputed):
    -- the backlog carried into the recomputed days
    select kept.tenant_id, kept.activity_date as opening_date, kept.backlog_open as opening_backlog
    from (
        select
            tenant_id,
            activity_date,
            backlog_open,
            row_number() over (partition by tenant_id order by activity_date desc) as day_rank
        from {{ this }}
    ) as kept
    inner join recomputed
        on kept.tenant_id = recomputed.tenant_id
    where kept.day_rank = 1

),

status_days as (

    select status_days.*
    from {{ ref('int_ticket_status__ticket_day') }} as status_days
    inner join recomputed
        on status_days.tenant_id = recomputed.tenant_id
    left join opening
        on status_days.tenant_id = opening.tenant_id
    where not status_days.is_ticket_deleted
        and (opening.opening_date is null or status_days.status_date > opening.opening_date)

),

{% else %}

status_days as (

    select * from {{ ref('int_ticket_status__ticket_day') }}
    where not is_ticket_deleted

),

{% endif %}

daily as (

    select
        tenant_id,
        status_date,
        sum(open_change) as open_change,
        sum(created_tickets) as created,
        sum(carried_in_tickets) as carried_in,
        sum(solved_tickets) as solved,
        sum(reopened_tickets) as reopened
    from status_days
    group by tenant_id, status_date

),

bounds as (

    -- days run without a gap: from the day after the last day kept, else the first status day
    select
        daily.tenant_id,
        {%- if incremental %}
        coalesce(
            max(cast({{ dbt.dateadd('day', 1, 'opening.opening_date') }} as date)),
            min(daily.status_date)
        ) as first_date,
        max(opening.opening_backlog) as opening_backlog,
        {%- else %}
        min(daily.status_date) as first_date,
        0 as opening_backlog,
        {%- endif %}
        max(daily.status_date) as last_date
    from daily
    {%- if incremental %}
    left join opening
        on daily.tenant_id = opening.tenant_id
    {%- endif %}
    group by daily.tenant_id

),

day_offsets as (

    {{ deskpulse.integers(5) }}

),

tenant_days as (

    select
        bounds.tenant_id,
        bounds.opening_backlog,
        cast({{ dbt.dateadd('day', 'day_offsets.n', 'bounds.first_date') }} as date) as activity_date
    from bounds
    inner join day_offsets
        on day_offsets.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

),

final as (

    select
        cast(tenant_days.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(tenant_days.activity_date as date) as activity_date,
        cast(coalesce(tenant_days.opening_backlog, 0) + sum(coalesce(daily.open_change, 0)) over (
            partition by tenant_days.tenant_id
            order by tenant_days.activity_date
            rows between unbounded preceding and current row
        ) as bigint) as backlog_open,
        cast(coalesce(daily.created, 0) as bigint) as created,
        cast(coalesce(daily.carried_in, 0) as bigint) as carried_in,
        cast(coalesce(daily.solved, 0) as bigint) as solved,
        cast(coalesce(daily.reopened, 0) as bigint) as reopened,
        {{ deskpulse.run_started_literal() }} as refreshed_at
    from tenant_days
    left join daily
        on tenant_days.tenant_id = daily.tenant_id
        and tenant_days.activity_date = daily.status_date

)

select * from final
