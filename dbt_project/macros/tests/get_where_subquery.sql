{#
    dbt's `where` config for data tests, plus two placeholders, so that an incremental run checks
    what it rebuilt or loaded instead of rescanning history:
    - `__latest_batch__`: rows recomputed by the latest run (refreshed_at = the model's latest
      stamp); a full build stamps every row, so it checks them all;
    - `__new_events__`: raw ticket events at or after the latest event the last build had seen
      (int_ticket_changes__ticket); every event before the first build.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__latest_batch__' in where -%}
            {%- set where = where | replace(
                '__latest_batch__',
                'refreshed_at = (select max(refreshed_at) from ' ~ relation ~ ')'
            ) -%}
        {%- endif -%}
        {%- if '__new_events__' in where -%}
            {%- set changes = adapter.get_relation(
                database=relation.database, schema='intermediate', identifier='int_ticket_changes__ticket'
            ) -%}
            {%- set condition = '1 = 1' if changes is none else
                'created_at >= coalesce((select max(last_event_at) from ' ~ changes ~ '), created_at)' -%}
            {%- set where = where | replace('__new_events__', condition) -%}
        {%- endif -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
