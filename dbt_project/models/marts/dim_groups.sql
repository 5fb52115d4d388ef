-- One row per tenant and agent group (team): its key, and its name as the tenant set it up (a
-- group name is not personal data), whether the platform reports it deleted, and when it was
-- created. Rebuilt whole on every build that touches groups: a tenant has tens of groups.

with

groups as (

    select * from {{ ref('stg_zendesk__groups') }}

),

final as (

    select
        cast(tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(group_key as {{ deskpulse.warehouse_type('varchar') }}) as group_key,
        cast(group_name as {{ deskpulse.warehouse_type('varchar') }}) as group_name,
        cast(coalesce(is_deleted, false) as boolean) as is_deleted,
        cast(created_at as {{ deskpulse.warehouse_type('timestamp with time zone') }}) as created_at
    from groups

)

select * from final
