"""The built-in demo: two tenants served by fake helpdesk APIs on free local ports.

``deskpulse demo`` and ``deskpulse dev`` use it. The two demo worlds share some customers, so the
demo shows the same e-mail pseudonymised differently per tenant.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from pipelines.fakes import fake_api
from pipelines.ingest.home import home, warehouse_path
from pipelines.world import World, WorldConfig

DEMO_TENANTS = (
    ("northwind", 11, "Europe/Amsterdam"),
    ("globex", 22, "America/New_York"),
)
SHARED_PEOPLE_SEED = 7
WORLD_RECORD = "world.json"  # the size of the demo world this home holds


def demo_worlds(tickets: int) -> list[World]:
    return [
        World(WorldConfig(tenant_id=tenant_id, seed=seed, tickets=tickets,
                          people_seed=SHARED_PEOPLE_SEED, timezone=timezone))
        for tenant_id, seed, timezone in DEMO_TENANTS
    ]


def _demo_secrets(folder: Path) -> dict[str, str]:
    """Per-tenant demo secrets, generated once and kept (0600) so pseudonyms stay stable."""
    path = folder / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {tenant_id: secrets.token_hex(32) for tenant_id, _, _ in DEMO_TENANTS}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def demo_folder() -> Path:
    """Where the demo keeps its tenant file, secrets and the size of its world."""
    return home() / "demo"


def make_room(tickets: int) -> list[str]:
    """Make this home's demo world one of ``tickets`` per tenant. The worlds of another size are
    other worlds, not a later state of this one, so when the demo tenants hold data loaded from
    another size (or from a size not recorded) that data is dropped (offboarded) and the next run
    loads the new world afresh; other tenants' data stays. Returns what was done, in words
    (nothing when the size is the same or no demo data is here)."""
    from pipelines.privacy.offboard import offboard_tenant
    from pipelines.privacy.warehouse import dlt_folders

    folder = demo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / WORLD_RECORD
    before = json.loads(record.read_text())["tickets"] if record.exists() else None
    loaded = [tenant_id for tenant_id, _, _ in DEMO_TENANTS if dlt_folders(tenant_id)]
    done = []
    if before != tickets and loaded:
        was = f"{before:,} tickets per tenant" if before is not None else "a world of unrecorded size"
        done.append(f"The demo in {home()} holds {was}; dropping it to build one of {tickets:,}")
        for tenant_id in loaded:
            offboard_tenant(tenant_id)
    record.write_text(json.dumps({"tickets": tickets}))
    return done


@dataclass
class Demo:
    """A running demo: the tenant file, and per tenant its world, fake API and secret."""

    tenant_file: Path
    worlds: dict[str, World]
    apis: dict[str, object]
    secrets: dict[str, str]


@contextlib.contextmanager
def demo_tenants(tickets: int) -> Iterator[Demo]:
    """Start the demo APIs, put their logins and secrets in the environment, yield the demo."""
    folder = demo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    keys = _demo_secrets(folder)
    fake = fake_api("zendesk")
    entries, worlds, apis = [], {}, {}
    with contextlib.ExitStack() as stack:
        for world in demo_worlds(tickets):
            tenant_id = world.config.tenant_id
            api = stack.enter_context(fake(world))
            worlds[tenant_id], apis[tenant_id] = world, api
            prefix = f"DESKPULSE_DEMO_{tenant_id.upper()}"
            os.environ[f"{prefix}_EMAIL"] = api.email
            os.environ[f"{prefix}_TOKEN"] = api.token
            os.environ[f"{prefix}_SECRET"] = keys[tenant_id]
            entries.append({
                "id": tenant_id,
                "platform": "zendesk",
                "base_url": api.base_url,
                "credentials": {"email_env": f"{prefix}_EMAIL", "token_env": f"{prefix}_TOKEN"},
                "secret_env": f"{prefix}_SECRET",
                "timezone": world.config.timezone,
                "retention_days": 730,
                "start_date": world.start.date().isoformat(),
            })
        path = folder / "tenants.yaml"
        path.write_text(yaml.safe_dump({"tenants": entries}, sort_keys=False))
        yield Demo(path, worlds, apis, keys)


def summary() -> str:
    """Rows per mart and a short leaderboard, for people."""
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        lines = ["Rows per mart (schema marts):"]
        for mart in marts:
            count = con.execute(f'select count(*) from marts."{mart}"').fetchall()[0][0]
            lines.append(f"  {mart:<32} {count:>9,}")
        leaders = con.execute("""
            select tenant_id, agent_key, sum(tickets_solved) as solved,
                   sum(public_replies) as replies,
                   sum(csat_good) * 1.0 / nullif(sum(csat_good) + sum(csat_bad), 0) as csat
            from marts.agent_daily_performance
            group by tenant_id, agent_key
            order by solved desc, replies desc
            limit 5
        """).fetchall()
    lines += ["", "Top agents by tickets solved (keys are pseudonyms):",
              f"  {'tenant':<12} {'agent':<14} {'solved':>7} {'replies':>8} {'csat':>6}"]
    for tenant_id, agent_key, solved, replies, csat in leaders:
        shown = f"{csat:.0%}" if csat is not None else "-"
        lines.append(f"  {tenant_id:<12} {agent_key[:12]:<14} {solved:>7} {replies:>8} {shown:>6}")
    return "\n".join(lines)
