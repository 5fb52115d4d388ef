{#
    Data test: none of the listed columns is null; one query for all of a model's required
    columns (marts enforce theirs as contract constraints instead). Failing rows name the first
    null column.
#}
{% test columns_not_null(model, columns) %}
select
    case
        {%- for column in columns %}
        when {{ column }} is null then '{{ column }}'
        {%- endfor %}
    end as null_column
from {{ model }}
where
    {%- for column in columns %}
    {{ column }} is null{{ ' or' if not loop.last }}
    {%- endfor %}
{% endtest %}
