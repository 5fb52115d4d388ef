-- One row per tenant whose raw data retention has purged: the purge instant (the latest, from
-- the `purged_before` var the orchestrator reads from the privacy audit log) and `kept_before`,
-- the first Monday at least three days after it. Every tenant day from `kept_before` on began
-- after the purge in any time zone, and it starts a week, so the daily and the weekly marts
-- keep the same aggregate cells as they were (macros/incremental/changed_periods.sql).

{%- set purged_before = var('purged_before', {}) %}

with

purges as (

    {%- for tenant_id, instant in purged_before.items() %}
    select
        cast('{{ tenant_id }}' as {{ dbt.type_string() }}) as tenant_id,
        cast('{{ instant }}' as {{ dbt.type_timestamp() }}) as purged_before
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as tenant_id,
        cast(null as {{ dbt.type_timestamp() }}) as purged_before
    where 1 = 0
    {%- endfor %}

),

final as (

    select
        tenant_id,
        purged_before,
        -- the Monday of the week holding the day 9 days on: the first Monday 3 or more days on
        cast({{ dbt.date_trunc('week', dbt.dateadd('day', 9, 'cast(purged_before as date)')) }} as date)
            as kept_before
    from purges

)

select * from final
