with

source as (

    {{ union_tenant_sources('zendesk', 'sla_policies') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as sla_policy_id,

        ---------- strings
        title as sla_policy_title,

        ---------- numerics
        position as sla_policy_position,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
