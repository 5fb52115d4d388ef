-- One row per tenant and metric: how many of its tickets' figures deskpulse and Zendesk both or
-- either have, how many agree within a minute, how many differ for a reason on the list of
-- docs/metrics.md, and how many differ unexplained. The rows of ticket_metric_reconciliation
-- hold each ticket's figures and reason.

with

reconciled as (

    select tenant_id, metric, reason from {{ ref('ticket_metric_reconciliation') }}

),

counted as (

    select
        tenant_id,
        metric,
        count(*) as compared,
        sum(case when reason = 'equal' then 1 else 0 end) as equal_within_a_minute,
        sum(case when reason not in ('equal', 'unexplained') then 1 else 0 end) as explained,
        sum(case when reason = 'unexplained' then 1 else 0 end) as unexplained
    from reconciled
    group by tenant_id, metric

),

final as (

    select
        cast(tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(metric as {{ deskpulse.warehouse_type('varchar') }}) as metric,
        cast(compared as bigint) as compared,
        cast(equal_within_a_minute as bigint) as equal_within_a_minute,
        cast(explained as bigint) as explained,
        cast(unexplained as bigint) as unexplained,
        cast(equal_within_a_minute * 1.0 / compared as {{ deskpulse.warehouse_type('double precision') }})
            as equal_share,
        cast(explained * 1.0 / compared as {{ deskpulse.warehouse_type('double precision') }})
            as explained_share
    from counted

)

select * from final
