-- Every schedule's business hours laid out on the calendar, in UTC, with the business seconds
-- that came before each local day, so that business time up to any instant is one equi-join on
-- (schedule, local date): seconds_before_day plus the part of that day's intervals before it.
--
-- Weekly intervals are minutes from Sunday 00:00 local time (Zendesk). They are cut at local
-- midnights (an interval may span days, e.g. 0-10080 for a 24/7 schedule), placed on each local
-- date with that day of the week, and turned into UTC instants in the schedule's zone, so
-- daylight saving shifts them as it does the wall clock (a 23- or 25-hour day stays one local
-- day). Holidays remove whole local dates, start and end inclusive.

{%- set margin_days = var('business_calendar_margin_days', 7) | int %}

with

schedules as (

    select tenant_id, schedule_id, time_zone from {{ ref('int_schedules__schedule') }}

),

weekly_intervals as (

    select
        tenant_id,
        schedule_id,
        greatest(start_minute_of_week, 0) as start_minute_of_week,
        least(end_minute_of_week, 7 * 1440) as end_minute_of_week
    from {{ ref('stg_zendesk__schedule_intervals') }}

),

holidays as (

    select tenant_id, schedule_id, holiday_start_date, holiday_end_date
    from {{ ref('stg_zendesk__schedule_holidays') }}

),

tenant_bounds as (

    -- the calendar spans every ticket, with days to spare on both sides for time zones and
    -- events that arrive before their ticket's row
    select
        tenant_id,
        cast({{ dbt.dateadd('day', -margin_days, 'min(created_at)') }} as date) as first_date,
        cast({{ dbt.dateadd('day', margin_days, 'max(coalesce(updated_at, created_at))') }} as date)
            as last_date
    from {{ ref('stg_zendesk__tickets') }}
    group by tenant_id

),

day_offsets as (

    {{ deskpulse.integers(5) }}

),

week_days as (

    select n as day_of_week from ({{ deskpulse.integers(1) }}) as digits where n < 7

),

schedule_days as (

    select
        schedules.tenant_id,
        schedules.schedule_id,
        schedules.time_zone,
        cast({{ dbt.dateadd('day', 'day_offsets.n', 'tenant_bounds.first_date') }} as date)
            as local_date
    from schedules
    inner join tenant_bounds
        on schedules.tenant_id = tenant_bounds.tenant_id
    inner join day_offsets
        on day_offsets.n <= {{ dbt.datediff('tenant_bounds.first_date', 'tenant_bounds.last_date', 'day') }}

),

holiday_days as (

    select distinct
        schedule_days.tenant_id,
        schedule_days.schedule_id,
        schedule_days.local_date
    from schedule_days
    inner join holidays
        on schedule_days.tenant_id = holidays.tenant_id
        and schedule_days.schedule_id = holidays.schedule_id
        and schedule_days.local_date between holidays.holiday_start_date and holidays.holiday_end_date

),

day_pieces as (

    -- each weekly interval cut at local midnights: the part falling on each day of the week
    select
        weekly_intervals.tenant_id,
        weekly_intervals.schedule_id,
        week_days.day_of_week,
        greatest(weekly_intervals.start_minute_of_week, week_days.day_of_week * 1440)
            - week_days.day_of_week * 1440 as start_minute_of_day,
        least(weekly_intervals.end_minute_of_week, (week_days.day_of_week + 1) * 1440)
            - week_days.day_of_week * 1440 as end_minute_of_day
    from weekly_intervals
    cross join week_days
    where greatest(weekly_intervals.start_minute_of_week, week_days.day_of_week * 1440)
        < least(weekly_intervals.end_minute_of_week, (week_days.day_of_week + 1) * 1440)

),

dated as (

    select
        schedule_days.tenant_id,
        schedule_days.schedule_id,
        schedule_days.time_zone,
        schedule_days.local_date,
        holiday_days.local_date is not null as is_holiday,
        day_pieces.start_minute_of_day,
        day_pieces.end_minute_of_day
    from schedule_days
    left join holiday_days
        on schedule_days.tenant_id = holiday_days.tenant_id
        and schedule_days.schedule_id = holiday_days.schedule_id
        and schedule_days.local_date = holiday_days.local_date
    left join day_pieces
        on schedule_days.tenant_id = day_pieces.tenant_id
        and schedule_days.schedule_id = day_pieces.schedule_id
        and {{ deskpulse.sunday_day_of_week('schedule_days.local_date') }} = day_pieces.day_of_week
        and holiday_days.local_date is null

),

placed as (

    select
        tenant_id,
        schedule_id,
        local_date,
        is_holiday,
        {{ deskpulse.from_tenant_local(
            dbt.dateadd('minute', 'start_minute_of_day', 'cast(local_date as ' ~ dbt.type_timestamp() ~ ')'),
            'time_zone'
        ) }} as interval_start_at,
        {{ deskpulse.from_tenant_local(
            dbt.dateadd('minute', 'end_minute_of_day', 'cast(local_date as ' ~ dbt.type_timestamp() ~ ')'),
            'time_zone'
        ) }} as interval_end_at
    from dated

),

measured as (

    select
        *,
        coalesce({{ dbt.datediff('interval_start_at', 'interval_end_at', 'second') }}, 0)
            as interval_seconds
    from placed

),

day_totals as (

    select
        tenant_id,
        schedule_id,
        local_date,
        sum(interval_seconds) as day_seconds
    from measured
    group by tenant_id, schedule_id, local_date

),

cumulated as (

    select
        tenant_id,
        schedule_id,
        local_date,
        day_seconds,
        coalesce(sum(day_seconds) over (
            partition by tenant_id, schedule_id
            order by local_date
            rows between unbounded preceding and 1 preceding
        ), 0) as seconds_before_day
    from day_totals

),

final as (

    select
        measured.tenant_id,
        measured.schedule_id,
        measured.local_date,
        measured.is_holiday,
        measured.interval_start_at,
        measured.interval_end_at,
        measured.interval_seconds,
        cumulated.seconds_before_day
    from measured
    inner join cumulated
        on measured.tenant_id = cumulated.tenant_id
        and measured.schedule_id = cumulated.schedule_id
        and measured.local_date = cumulated.local_date

)

select * from final
