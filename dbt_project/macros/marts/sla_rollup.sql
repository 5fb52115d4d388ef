{#
    SLA attainment per accountable agent or group, period and SLA metric, counted from the
    instances of fct_ticket_slas (docs/metrics.md, SLA attainment). `subject` is `agent` or
    `group` (the accountable_<subject>_key), `period` `day` (the outcome's tenant day) or `week`
    (its Monday). The caller's final select renames `subject_key` and `period_start`; a CTE
    chain ending in `rolled_up`, so weeks and teams count instances and never average days.
#}
{% macro sla_rollup(subject, period) -%}

decided as (

    select
        tenant_id,
        accountable_{{ subject }}_key as subject_key,
        {%- if period == 'week' %}
        cast({{ dbt.date_trunc('week', 'outcome_date') }} as date) as period_start,
        {%- else %}
        outcome_date as period_start,
        {%- endif %}
        sla_metric,
        sla_status
    from {{ ref('fct_ticket_slas') }}
    where sla_status in ('achieved', 'breached')
        and not is_ticket_deleted
        and accountable_{{ subject }}_key is not null

),

rolled_up as (

    select
        tenant_id,
        subject_key,
        period_start,
        sla_metric,
        count(case when sla_status = 'achieved' then 1 end) as sla_achieved,
        count(case when sla_status = 'breached' then 1 end) as sla_breached
    from decided
    group by tenant_id, subject_key, period_start, sla_metric

)

{%- endmacro %}


{# The figures of a rolled_up row, typed as the marts' contracts declare them. #}
{% macro sla_figures() -%}
        cast(rolled_up.sla_metric as {{ deskpulse.warehouse_type('varchar') }}) as sla_metric,
        cast(rolled_up.sla_achieved as bigint) as sla_achieved,
        cast(rolled_up.sla_breached as bigint) as sla_breached,
        cast(
            rolled_up.sla_achieved * 1.0 / (rolled_up.sla_achieved + rolled_up.sla_breached)
            as {{ deskpulse.warehouse_type('double precision') }}
        ) as sla_attainment
{%- endmacro %}
