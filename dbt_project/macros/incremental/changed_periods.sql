{#
    Incremental builds by period, for the marts that roll ticket-level activity rows up to
    (tenant, entity, period) cells.

    Every activity row of a ticket falls on or after the tenant day the ticket was created, so
    when tickets change (int_ticket_changes__ticket stamps them), no cell of their tenant that
    ends before the earliest of their creation days can change. An incremental run recomputes,
    per tenant with changes, every cell ending after that day: the pre-hook deletes those cells,
    the model's select rolls them up again from the activity rows, and they are appended. A
    ticket removed from raw (erasure, offboarding) has no creation day any more: its tenant's
    cells are all recomputed.

    Retention: once a tenant's raw data was purged, the activity of those tickets is gone, so no
    cell that begins before `kept_before` (int_tenant_retention__tenant) is recomputed again:
    those aggregates are kept as they were. A full build (--full-refresh) recomputes every cell from
    what raw still holds.

    Models opt in with:
        config(materialized='incremental', incremental_strategy='append',
               pre_hook="{{ deskpulse.delete_changed_periods('<period column>', <days>) }}")
    and roll up only the activity rows of the cells `deskpulse.period_is_recomputed` keeps
    within `deskpulse.recompute_bounds(is_incremental())` (macros/marts/performance_rollup.sql
    does both); they stamp their rows with `refreshed_at`, the run's start.
#}

{# Per tenant with changes since this model's latest stamp: `changed_from`, the earliest tenant
   day its changed tickets can touch, and `kept_before`, the first tenant day
   whose cells are recomputed after a retention purge (1900 if never purged). Incremental runs only. #}
{% macro recompute_bounds(incremental) -%}
    {%- set first_day = "cast('1900-01-01' as date)" -%}
    select
        changes.tenant_id,
        min(coalesce(
            -- two days before its date in the session's zone: no tenant day of it is earlier
            cast({{ dbt.dateadd('day', -2, 'cast(tickets.created_at as date)') }} as date),
            {{ first_day }}
        )) as changed_from,
        coalesce(max(retention.kept_before), {{ first_day }}) as kept_before
    from {{ ref('int_ticket_changes__ticket') }} as changes
    left join {{ ref('stg_zendesk__tickets') }} as tickets
        on changes.tenant_id = tickets.tenant_id
        and changes.ticket_id = tickets.ticket_id
    left join {{ ref('int_tenant_retention__tenant') }} as retention
        on changes.tenant_id = retention.tenant_id
    where changes.refreshed_at > {{ deskpulse.refreshed_since(incremental) }}
    group by changes.tenant_id
{%- endmacro %}


{# Whether the cell of `period` (a date starting `days` days) is recomputed: it ends after
   `changed_from` and begins no earlier than `kept_before`, both columns of `changed`. #}
{% macro period_is_recomputed(period, days) -%}
    {{ period }} > cast({{ dbt.dateadd('day', -days, 'changed.changed_from') }} as date)
            and {{ period }} >= changed.kept_before
{%- endmacro %}


{# Pre-hook: remove this model's cells about to be recomputed. #}
{% macro delete_changed_periods(period, days) -%}
    {%- if is_incremental() -%}
    {{ deskpulse.delete_changed_rows(deskpulse.recompute_bounds(true),
                                     deskpulse.period_is_recomputed('existing_rows.' ~ period, days)) }}
    {%- endif -%}
{%- endmacro %}


{#
    The cross-tenant marts (the monthly benchmark) pool every tenant's tickets in one cell, so a
    cell cannot be recomputed for one tenant: once any tenant's raw data was purged, every cell
    of a period that begins before that tenant's `kept_before` may hold purged tickets and is
    kept as it was. An incremental run recomputes the periods that begin on or after the latest
    `kept_before` of all tenants (every period while none was purged).

    Models opt in with:
        config(materialized='incremental', incremental_strategy='append',
               pre_hook="{{ deskpulse.delete_unkept_periods('<period column>', '<also>') }}")
    and select only the periods `deskpulse.pooled_kept_before()` leaves to recompute.
#}

{# The first period start recomputed: the latest `kept_before` over all tenants, as a scalar
   subquery (1900 while no tenant was purged). #}
{% macro pooled_kept_before() -%}
    (
        select coalesce(max(kept_before), cast('1900-01-01' as date))
        from {{ ref('int_tenant_retention__tenant') }}
    )
{%- endmacro %}


{# Pre-hook: remove the cells about to be recomputed, and kept cells matching `also` (a
   condition: kept cells a changed threshold no longer allows). #}
{% macro delete_unkept_periods(period, also='1 = 0') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ period }} >= {{ deskpulse.pooled_kept_before() }}
        or {{ also }}
    {%- endif -%}
{%- endmacro %}
