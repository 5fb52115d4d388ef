-- When each user last changed in a way that changes past tickets' figures: their key (a user
-- record arriving after their tickets) or whether they are an agent (an end user promoted, a
-- user first seen as an assignee). Incremental: a run stamps only the users that changed, and
-- int_ticket_changes__ticket recomputes the tickets they appear on.

{{ config(
    materialized='incremental',
    unique_key=['tenant_id', 'user_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

users as (

    select tenant_id, user_id, user_key, is_agent from {{ ref('int_users__user') }}

),

{% if is_incremental() %}

previous as (

    select tenant_id, user_id, user_key, is_agent from {{ this }}

),

changed as (

    select users.tenant_id, users.user_id, users.user_key, users.is_agent
    from users
    left join previous
        on users.tenant_id = previous.tenant_id
        and users.user_id = previous.user_id
    where previous.user_id is null
        or previous.is_agent <> users.is_agent
        or coalesce(previous.user_key, '') <> coalesce(users.user_key, '')

    union all

    -- users gone from raw (erased): their past comments are no longer an agent's
    select previous.tenant_id, previous.user_id, cast(null as {{ dbt.type_string() }}), false
    from previous
    left join users
        on previous.tenant_id = users.tenant_id
        and previous.user_id = users.user_id
    where users.user_id is null
        and (previous.is_agent or previous.user_key is not null)

),

{% else %}

changed as (

    select * from users

),

{% endif %}

final as (

    select
        tenant_id,
        user_id,
        user_key,
        is_agent,
        {{ deskpulse.run_started_literal() }} as refreshed_at
    from changed

)

select * from final
