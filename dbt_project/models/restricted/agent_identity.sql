-- The one place that maps an agent key back to a person: restricted schema, not published to
-- BI. Raw holds no names, only keyed tokens of them, so this maps each agent key to the tokens
-- of the agent's name and e-mail (latest version of the user). An agent whose record holds no
-- identity (an unlinked agent's stand-in, an assignee whose user was never loaded) has no row.

with

agents as (

    select tenant_id, user_id, user_key from {{ ref('int_users__user') }}
    where is_agent

),

latest_versions as (

    select
        versions.tenant_id,
        versions.user_id,
        versions.name_token,
        versions.email_token,
        row_number() over (
            partition by versions.tenant_id, versions.user_id
            order by versions.updated_at desc
        ) as version_rank
    from {{ ref('stg_zendesk__users') }} as versions
    inner join agents
        on versions.tenant_id = agents.tenant_id
        and versions.user_id = agents.user_id

),

final as (

    select
        cast(agents.tenant_id as {{ deskpulse.warehouse_type('varchar') }}) as tenant_id,
        cast(agents.user_key as {{ deskpulse.warehouse_type('varchar') }}) as agent_key,
        cast(latest_versions.name_token as {{ deskpulse.warehouse_type('varchar') }}) as name_token,
        cast(latest_versions.email_token as {{ deskpulse.warehouse_type('varchar') }}) as email_token
    from agents
    inner join latest_versions
        on agents.tenant_id = latest_versions.tenant_id
        and agents.user_id = latest_versions.user_id
        and latest_versions.version_rank = 1
    -- an agent with no identity maps to no one: an unlinked agent's stand-in (erasure) has none
    where latest_versions.name_token is not null
        or latest_versions.email_token is not null

)

select * from final
