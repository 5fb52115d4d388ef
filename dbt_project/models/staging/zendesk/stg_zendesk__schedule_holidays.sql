with

source as (

    {{ union_tenant_sources('zendesk', 'schedule_holidays') }}

),

renamed as (

    select

        ---------- ids
        tenant_id,
        id as holiday_id,
        schedule_id,

        ---------- strings
        name as holiday_name,

        ---------- dates
        start_date as holiday_start_date,
        end_date as holiday_end_date

    from source

)

select * from renamed
