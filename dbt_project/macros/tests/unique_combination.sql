{#
    Data test: the combination of columns is unique, i.e. the model has the grain it says it
    has. Rows where every listed column is null count as one combination.
#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
