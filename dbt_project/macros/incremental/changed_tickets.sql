{#
    Incremental builds by ticket.

    `int_ticket_changes__ticket` compares what raw holds for each ticket with what it held at
    the last build and stamps every ticket that changed with `refreshed_at`, the start of the
    run that saw the change. Every other ticket-keyed incremental model keeps that stamp on its
    rows and, in an incremental run, recomputes exactly the tickets stamped later than the
    latest stamp it holds: the pre-hook deletes their old rows, the model's select produces
    their new ones, and the rows are appended. A model that failed in an earlier run therefore
    catches up on its next run, and a ticket whose rows vanish (deleted everywhere upstream)
    loses its old rows too.

    Models opt in with:
        config(materialized='incremental', incremental_strategy='append',
               pre_hook="{{ deskpulse.delete_changed_tickets() }}")
    and restrict their inputs to `deskpulse.changed_tickets(is_incremental())`: the model
    passes its own is_incremental(), so a unit test's override of it reaches the macro.
#}

{% macro run_started_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{# The latest refreshed_at stamp this model holds, as a SQL literal (incremental runs only). #}
{% macro refreshed_since(incremental) %}
    {%- if not (execute and incremental) -%}
        {{ return("cast(null as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {%- set result = run_query("select max(refreshed_at) from " ~ this) -%}
    {%- set latest = result.columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return("cast('1900-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {{ return("cast('" ~ latest.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}


{# Tickets to (re)compute: all of them in a full build, those stamped later than this model's
   latest stamp in an incremental one. Columns: tenant_id, ticket_id, refreshed_at. #}
{% macro changed_tickets(incremental) -%}
    select tenant_id, ticket_id, refreshed_at
    from {{ ref('int_ticket_changes__ticket') }}
    {%- if incremental %}
    where refreshed_at > {{ deskpulse.refreshed_since(incremental) }}
    {%- endif %}
{%- endmacro %}


{# A condition keeping the rows of `alias`, an upstream incremental-by-ticket model, that belong
   to the tickets this run recomputes. Every row carries its ticket's stamp and the upstream
   model ran first, so in an incremental run they are exactly the rows stamped later than this
   model's latest stamp: appended last, the engine finds them from each block's min/max without
   reading the rest of the table. True in a full build. #}
{% macro refreshed_rows(alias, incremental) -%}
    {%- if incremental -%}
    {{ alias }}.refreshed_at > {{ deskpulse.refreshed_since(incremental) }}
    {%- else -%}
    1 = 1
    {%- endif -%}
{%- endmacro %}


{# The delete of an incremental pre-hook: this model's rows (`existing_rows`) of a tenant in
   `changed`, a select with tenant_id, that meet `condition` over both. #}
{% macro delete_changed_rows(changed, condition) -%}
    delete from {{ this }} as existing_rows
    where exists (
        select 1
        from ({{ changed }}) as changed
        where changed.tenant_id = existing_rows.tenant_id
            and {{ condition }}
    )
{%- endmacro %}


{# Pre-hook: remove this model's rows of the tickets about to be recomputed. #}
{% macro delete_changed_tickets() -%}
    {%- if is_incremental() -%}
    {{ deskpulse.delete_changed_rows(deskpulse.changed_tickets(true),
                                     'changed.ticket_id = existing_rows.ticket_id') }}
    {%- endif -%}
{%- endmacro %}
