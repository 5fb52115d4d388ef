-- One row per tag of a ticket of fct_tickets: a bridge for filtering and counting tickets by tag
-- (a ticket has any number of tags). Tags as Zendesk keeps them, the tags the ticket has now.
-- Incremental by ticket: a run recomputes only the tickets that changed
-- (macros/incremental/changed_tickets.sql); a ticket whose tags were all removed loses its rows.

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

tags as (

    select tags.tenant_id, tags.ticket_id, tags.tag, changed.refreshed_at
    from {{ ref('stg_zendesk__ticket_tags') }} as tags
    inner join changed
        on tags.tenant_id = changed.tenant_id
        and tags.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('tags', since) }}

),

final as (

    select
        cast(tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(ticket_id as bigint) as ticket_id,
        cast(tag as {{ deskpulse.warehouse_type('varchar') }}) as tag,
        cast(refreshed_at as {{ dbt.type_timestamp() }}) as refreshed_at
    from tags

)

select * from final
