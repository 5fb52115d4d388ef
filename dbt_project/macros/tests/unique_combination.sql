{#
    Data test: the combination of columns is unique, i.e. the model has the grain it says it
    has. Rows where every listed column is null count as one combination.

    With `rebuilt_tickets_only: true` (the large ticket-keyed incremental models), only the rows
    of the tickets the latest run rebuilt are checked, all of them, old stamps included: that
    catches a row left next to its replacement without rescanning history. A full build
    rebuilds every ticket, so it checks every row; under --full-refresh it does not look for the
    rebuilt tickets first (at a million tickets, finding them costs as much as the check).
#}
{% test unique_combination(model, columns, rebuilt_tickets_only=false) %}
select
    {{ columns | join(', ') }},
    count(*) as duplicate_rows
from (select * from {{ model }}) as checked
{%- if rebuilt_tickets_only and not flags.FULL_REFRESH %}
where (checked.tenant_id, checked.ticket_id) in (
    select distinct rebuilt.tenant_id, rebuilt.ticket_id
    from (select * from {{ model }}) as rebuilt
    where rebuilt.refreshed_at = (select max(refreshed_at) from {{ model }})
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
