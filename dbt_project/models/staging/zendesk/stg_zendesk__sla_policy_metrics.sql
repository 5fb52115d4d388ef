with

source as (

    {{ union_tenant_sources('zendesk', 'sla_policy_metrics') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        policy_id as sla_policy_id,

        ---------- strings
        priority,
        metric,

        ---------- numerics
        target_minutes,

        ---------- booleans
        business_hours as is_business_hours

    from source

)

select * from renamed
