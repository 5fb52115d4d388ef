with

source as (

    {{ union_tenant_sources('zendesk', 'schedule_intervals') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        schedule_id,

        ---------- numerics
        start_time as start_minute_of_week,
        end_time as end_minute_of_week

    from source

)

select * from renamed
