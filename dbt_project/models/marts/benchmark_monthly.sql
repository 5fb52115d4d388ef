-- The cross-tenant benchmark: one row per month (of ticket creation, in each ticket's tenant
-- day) and channel, pooling the tickets of every tenant. It leaves the tenants, so it holds no
-- tenant id and no key, and a cell is published only when it pools at least
-- `benchmark_min_tenants` tenants and `benchmark_min_tickets` tickets (docs/metrics.md); smaller
-- cells are absent, not rounded. One grain only, with no totals over channels or months, so a
-- suppressed cell cannot be recovered by subtracting published ones.
-- Incremental: once a retention purge took a tenant's raw data, the months that may hold its
-- purged tickets are kept as they were; later months are recomputed on every run
-- (macros/incremental/changed_periods.sql). A kept cell below today's thresholds is removed.

-- depends_on: {{ ref('int_tenant_retention__tenant') }}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ deskpulse.delete_unkept_periods('benchmark_month',
        'tenants < ' ~ (var('benchmark_min_tenants') | int)
        ~ ' or tickets < ' ~ (var('benchmark_min_tickets') | int)) }}",
) }}

{%- set min_tenants = var('benchmark_min_tenants') | int %}
{%- set min_tickets = var('benchmark_min_tickets') | int %}
{%- if min_tenants < 2 or min_tickets < 1 %}
    {{ exceptions.raise_compiler_error(
        "benchmark_min_tenants must be at least 2 and benchmark_min_tickets at least 1: a cell"
        ~ " of one tenant is that tenant's own data"
    ) }}
{%- endif %}

with

tickets as (

    select
        tenant_id,
        cast({{ dbt.date_trunc('month', 'created_date') }} as date) as benchmark_month,
        coalesce(via_channel, 'unknown') as via_channel,
        first_reply_minutes,
        first_reply_business_minutes,
        full_resolution_minutes,
        full_resolution_business_minutes,
        case when status in ('solved', 'closed') then 1 else 0 end as is_resolved,
        case when is_one_touch then 1 else 0 end as is_one_touch,
        case when first_solved_at is not null then 1 else 0 end as was_solved,
        case when first_solved_at is not null and reopens > 0 then 1 else 0 end as was_reopened,
        case when csat_score = 'good' then 1 else 0 end as is_good,
        case when csat_score = 'bad' then 1 else 0 end as is_bad
    from {{ ref('fct_tickets') }}
    where not is_deleted

),

cells as (

    select
        benchmark_month,
        via_channel,
        count(distinct tenant_id) as tenants,
        count(*) as tickets,
        {{ deskpulse.percentile_cont('first_reply_minutes', 0.5) }} as median_first_reply_minutes,
        {{ deskpulse.percentile_cont('first_reply_minutes', 0.9) }} as p90_first_reply_minutes,
        {{ deskpulse.percentile_cont('first_reply_business_minutes', 0.5) }}
            as median_first_reply_business_minutes,
        {{ deskpulse.percentile_cont('full_resolution_minutes', 0.5) }} as median_full_resolution_minutes,
        {{ deskpulse.percentile_cont('full_resolution_business_minutes', 0.5) }}
            as median_full_resolution_business_minutes,
        sum(is_resolved) as resolved_tickets,
        sum(is_one_touch) as one_touch_tickets,
        sum(was_solved) as solved_tickets,
        sum(was_reopened) as reopened_tickets,
        sum(is_good) as csat_good,
        sum(is_bad) as csat_bad
    from tickets
    {%- if is_incremental() %}
    where benchmark_month >= {{ deskpulse.pooled_kept_before() }}
    {%- endif %}
    group by benchmark_month, via_channel

),

final as (

    select
        cast(benchmark_month as date) as benchmark_month,
        cast(via_channel as {{ deskpulse.warehouse_type('varchar') }}) as via_channel,
        cast(tenants as bigint) as tenants,
        cast(tickets as bigint) as tickets,
        cast(median_first_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_first_reply_minutes,
        cast(p90_first_reply_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as p90_first_reply_minutes,
        cast(median_first_reply_business_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_first_reply_business_minutes,
        cast(median_full_resolution_minutes as {{ deskpulse.warehouse_type('double precision') }})
            as median_full_resolution_minutes,
        cast(median_full_resolution_business_minutes
            as {{ deskpulse.warehouse_type('double precision') }}) as median_full_resolution_business_minutes,
        cast(case when resolved_tickets > 0 then one_touch_tickets * 1.0 / resolved_tickets end
            as {{ deskpulse.warehouse_type('double precision') }}) as one_touch_rate,
        cast(case when solved_tickets > 0 then reopened_tickets * 1.0 / solved_tickets end
            as {{ deskpulse.warehouse_type('double precision') }}) as reopen_rate,
        cast(case when csat_good + csat_bad > 0 then csat_good * 1.0 / (csat_good + csat_bad) end
            as {{ deskpulse.warehouse_type('double precision') }}) as csat_pct
    from cells
    where tenants >= {{ min_tenants }}
        and tickets >= {{ min_tickets }}

)

select * from final
