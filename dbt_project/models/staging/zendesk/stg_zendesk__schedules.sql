with

source as (

    {{ union_tenant_sources('zendesk', 'schedules') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as schedule_id,

        ---------- strings
        name as schedule_name,
        time_zone as rails_time_zone,

        ---------- timestamps
        created_at,
        updated_at

    from source

)

select * from renamed
