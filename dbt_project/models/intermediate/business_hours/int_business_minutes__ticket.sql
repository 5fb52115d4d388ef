-- Business-minute variants of first reply and resolution times, per ticket.
--
-- A ticket is measured on the schedule the platform assigned to it (the latest `schedule_id`
-- a ticket event set, when the loader keeps such events), else on the tenant's default
-- schedule. Business time up to an instant is looked up in int_business_calendar__day_interval
-- by (schedule, local date of the instant): the business seconds before that day plus the part
-- of the day's intervals before the instant. An interval's business minutes are the difference
-- of its two ends, so a 24/7 schedule gives exactly the calendar minutes. Incremental by ticket.

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

tickets as (

    select tickets.tenant_id, tickets.ticket_id, tickets.created_at, changed.refreshed_at
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join changed
        on tickets.tenant_id = changed.tenant_id
        and tickets.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('tickets', since) }}

),

schedules as (

    select tenant_id, schedule_id, time_zone, is_default_schedule
    from {{ ref('int_schedules__schedule') }}

),

assignments as (

    select
        schedule_events.tenant_id,
        schedule_events.ticket_id,
        cast(nullif(schedule_events.field_value, '') as bigint) as schedule_id,
        row_number() over (
            partition by schedule_events.tenant_id, schedule_events.ticket_id
            order by schedule_events.created_at desc, schedule_events.audit_id desc,
                schedule_events.ticket_event_id desc
        ) as assignment_rank
    from {{ ref('stg_zendesk__ticket_events') }} as schedule_events
    inner join changed
        on schedule_events.tenant_id = changed.tenant_id
        and schedule_events.ticket_id = changed.ticket_id
    where {{ deskpulse.in_changed_tickets('schedule_events', since) }}
        and schedule_events.event_type in ('Create', 'Change')
        and schedule_events.field_name = 'schedule_id'

),

ticket_schedules as (

    select
        tickets.tenant_id,
        tickets.ticket_id,
        tickets.created_at,
        tickets.refreshed_at,
        coalesce(assigned.schedule_id, defaults.schedule_id) as schedule_id,
        coalesce(assigned.time_zone, defaults.time_zone) as time_zone
    from tickets
    left join assignments
        on tickets.tenant_id = assignments.tenant_id
        and tickets.ticket_id = assignments.ticket_id
        and assignments.assignment_rank = 1
    left join schedules as assigned
        on assignments.tenant_id = assigned.tenant_id
        and assignments.schedule_id = assigned.schedule_id
    left join schedules as defaults
        on tickets.tenant_id = defaults.tenant_id
        and defaults.is_default_schedule

),

reply_times as (

    select reply_times.tenant_id, reply_times.ticket_id, reply_times.first_end_user_comment_at,
        reply_times.first_reply_at
    from {{ ref('int_reply_times__ticket') }} as reply_times
    where {{ deskpulse.refreshed_rows('reply_times', since) }}

),

resolution as (

    select resolution.tenant_id, resolution.ticket_id, resolution.first_solved_at,
        resolution.final_solved_at
    from {{ ref('int_resolution__ticket') }} as resolution
    where {{ deskpulse.refreshed_rows('resolution', since) }}

),

ticket_instants as (

    select
        ticket_schedules.tenant_id,
        ticket_schedules.ticket_id,
        ticket_schedules.schedule_id,
        ticket_schedules.time_zone,
        ticket_schedules.created_at,
        reply_times.first_end_user_comment_at,
        reply_times.first_reply_at,
        resolution.first_solved_at,
        resolution.final_solved_at
    from ticket_schedules
    left join reply_times
        on ticket_schedules.tenant_id = reply_times.tenant_id
        and ticket_schedules.ticket_id = reply_times.ticket_id
    left join resolution
        on ticket_schedules.tenant_id = resolution.tenant_id
        and ticket_schedules.ticket_id = resolution.ticket_id

),

-- kept as a table of its own: inlined into the aggregation below, the instants of a million
-- tickets and the joins that produce them did not fit dbt's memory bound together
instants as {{ deskpulse.materialized_cte() }} (

    {%- set instants = ['created_at', 'first_end_user_comment_at', 'first_reply_at', 'first_solved_at',
                        'final_solved_at'] %}
    {%- for column in instants %}

    select
        tenant_id,
        ticket_id,
        schedule_id,
        '{{ column }}' as instant_name,
        {{ column }} as instant_at,
        {{ deskpulse.tenant_date(column, 'time_zone') }} as local_date
    from ticket_instants
    where {{ column }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

business_time as (

    -- business seconds from the calendar's origin to each instant
    select
        instants.tenant_id,
        instants.ticket_id,
        instants.instant_name,
        max(calendar.seconds_before_day) + sum(
            case
                when calendar.interval_start_at is null
                    or instants.instant_at <= calendar.interval_start_at then 0
                when instants.instant_at >= calendar.interval_end_at then calendar.interval_seconds
                else {{ dbt.datediff('calendar.interval_start_at', 'instants.instant_at', 'second') }}
            end
        ) as business_seconds
    from instants
    inner join {{ ref('int_business_calendar__day_interval') }} as calendar
        on instants.tenant_id = calendar.tenant_id
        and instants.schedule_id = calendar.schedule_id
        and instants.local_date = calendar.local_date
    group by instants.tenant_id, instants.ticket_id, instants.instant_name

),

pivoted as (

    select
        tenant_id,
        ticket_id,
        {%- for column in instants %}
        max(case when instant_name = '{{ column }}' then business_seconds end)
            as {{ column | replace('_at', '') }}_seconds
        {{- ',' if not loop.last }}
        {%- endfor %}
    from business_time
    group by tenant_id, ticket_id

),

final as (

    select
        ticket_schedules.tenant_id,
        ticket_schedules.ticket_id,
        ticket_schedules.schedule_id,
        cast((pivoted.first_reply_seconds - pivoted.first_end_user_comment_seconds) / 60.0
            as {{ deskpulse.warehouse_type('double precision') }}) as first_reply_business_minutes,
        cast((pivoted.first_solved_seconds - pivoted.created_seconds) / 60.0
            as {{ deskpulse.warehouse_type('double precision') }}) as first_resolution_business_minutes,
        cast((pivoted.final_solved_seconds - pivoted.created_seconds) / 60.0
            as {{ deskpulse.warehouse_type('double precision') }}) as full_resolution_business_minutes,
        ticket_schedules.refreshed_at
    from ticket_schedules
    left join pivoted
        on ticket_schedules.tenant_id = pivoted.tenant_id
        and ticket_schedules.ticket_id = pivoted.ticket_id

)

select * from final
