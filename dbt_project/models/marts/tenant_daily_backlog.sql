-- One row per tenant and tenant day, from the start of its loaded history to its last audit: the
-- backlog at the end of the day and the day's created, carried-in, solved and reopened tickets.
-- Deleted tickets are left out on every day. The backlog is the running sum of the days' entries
-- into and exits from the open statuses (int_ticket_status__ticket_day), so days without any
-- change carry the previous day's backlog.

with

status_days as (

    select * from {{ ref('int_ticket_status__ticket_day') }}
    where not is_ticket_deleted

),

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

    select tenant_id, min(status_date) as first_date, max(status_date) as last_date
    from daily
    group by tenant_id

),

day_offsets as (

    {{ deskpulse.integers(5) }}

),

tenant_days as (

    select
        bounds.tenant_id,
        cast({{ dbt.dateadd('day', 'day_offsets.n', 'bounds.first_date') }} as date) as activity_date
    from bounds
    inner join day_offsets
        on day_offsets.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

),

final as (

    select
        cast(tenant_days.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(tenant_days.activity_date as date) as activity_date,
        cast(sum(coalesce(daily.open_change, 0)) over (
            partition by tenant_days.tenant_id
            order by tenant_days.activity_date
            rows between unbounded preceding and current row
        ) as bigint) as backlog_open,
        cast(coalesce(daily.created, 0) as bigint) as created,
        cast(coalesce(daily.carried_in, 0) as bigint) as carried_in,
        cast(coalesce(daily.solved, 0) as bigint) as solved,
        cast(coalesce(daily.reopened, 0) as bigint) as reopened
    from tenant_days
    left join daily
        on tenant_days.tenant_id = daily.tenant_id
        and tenant_days.activity_date = daily.status_date

)

select * from final
