-- Satisfaction-rating records with their tenant day. Only good and bad are ratings; offered
-- and unoffered records say a survey was (not) sent. The latest rating of a ticket is its score.
-- Incremental by ticket: a run recomputes every record of the tickets that changed.

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

ratings as (

    select ratings.*, changed.refreshed_at
    from {{ ref('stg_zendesk__satisfaction_ratings') }} as ratings
    inner join changed
        on ratings.tenant_id = changed.tenant_id
        and ratings.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('ratings', since) }}

),

tickets as (

    select tenant_id, ticket_id, status from {{ ref('stg_zendesk__tickets') }}

),

tenant_time_zones as (

    select tenant_id, time_zone from {{ ref('int_tenant_time_zones__tenant') }}

),

classified as (

    select
        ratings.tenant_id,
        ratings.satisfaction_rating_id,
        ratings.ticket_id,
        ratings.assignee_id,
        ratings.group_id,
        ratings.score,
        ratings.created_at,
        {{ tenant_date(
            'ratings.created_at',
            "coalesce(tenant_time_zones.time_zone, 'UTC')"
        ) }} as created_date,
        coalesce(ratings.score in ('good', 'bad'), false) as is_rated,
        coalesce(tickets.status = 'deleted', false) as is_ticket_deleted,
        ratings.refreshed_at
    from ratings
    left join tickets
        on ratings.tenant_id = tickets.tenant_id
        and ratings.ticket_id = tickets.ticket_id
    left join tenant_time_zones
        on ratings.tenant_id = tenant_time_zones.tenant_id

),

final as (

    select
        *,
        coalesce(
            is_rated and row_number() over (
                partition by tenant_id, ticket_id, is_rated
                order by created_at desc, satisfaction_rating_id desc
            ) = 1,
            false
        ) as is_latest_rating
    from classified

)

select * from final
