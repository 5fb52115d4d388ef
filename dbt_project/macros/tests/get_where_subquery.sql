{#
    dbt's `where` config for data tests, plus two placeholders, so that an incremental run checks
    what it rebuilt or loaded instead of rescanning history:
    - `__latest_batch__`: rows recomputed by the latest run (refreshed_at = the model's latest
      stamp); a full build stamps every row, so it checks them all;
    - `__event_watermark__`: the latest raw ticket event the last build had seen
      (int_ticket_changes__ticket), or 1900 before the first build; `created_at >=
      __event_watermark__` checks the events (and metric events) loaded since.
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
        {%- if '__event_watermark__' in where -%}
            {%- set changes = adapter.get_relation(
                database=relation.database, schema='intermediate', identifier='int_ticket_changes__ticket'
            ) -%}
            {%- set first_build = "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" -%}
            {%- set watermark = first_build if changes is none else
                '(select coalesce(max(last_event_at), ' ~ first_build ~ ') from ' ~ changes ~ ')' -%}
            {%- set where = where | replace('__event_watermark__', watermark) -%}
        {%- endif -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
