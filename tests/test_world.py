"""The synthetic world: deterministic, streaming, with lifecycles that respect helpdesk rules."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.world import World, WorldConfig
from pipelines.world.model import SYSTEM_USER_ID

OPEN = {"new", "open", "pending", "hold"}


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tickets=1500, seed=5))


def test_same_seed_same_world_other_seed_other_world():
    a, b = World(WorldConfig(seed=3, tickets=200)), World(WorldConfig(seed=3, tickets=200))
    assert [a.ticket(i) for i in (1, 77, 200)] == [b.ticket(i) for i in (1, 77, 200)]
    assert a.ticket(77) == a.ticket(77)  # regenerated alone, identical
    other = World(WorldConfig(seed=4, tickets=200))
    assert other.ticket(77).audits != a.ticket(77).audits


def test_lifecycles_follow_helpdesk_rules(world):
    for ticket in world.tickets():
        times = [a.at for a in ticket.audits]
        assert times == sorted(times) and len(set(times)) == len(times), ticket.id
        assert times[0] == ticket.created_at
        status = None
        for audit in ticket.audits:
            for event in audit.events:
                if event.field_name != "status":
                    continue
                if event.type == "Change":
                    assert event.previous_value == status, ticket.id
                    assert status != "closed", f"ticket {ticket.id} changed after close"
                    if event.value == "closed":
                        assert status == "solved"
                status = event.value
        if ticket.deleted_at is not None:
            assert all(a.at < ticket.deleted_at for a in ticket.audits)
            assert ticket.state_at(ticket.deleted_at)["status"] == "deleted"


def test_the_world_has_every_case_the_metrics_need(world):
    end = world.end + timedelta(days=60)
    statuses, reopened, outbound, notes, rated, offered_only = set(), 0, 0, 0, 0, 0
    for ticket in world.tickets():
        statuses.add(ticket.state_at(end)["status"])
        changes = [e for a in ticket.audits for e in a.events if e.type == "Change"]
        reopened += any(e.previous_value == "solved" and e.value in OPEN for e in changes)
        outbound += ticket.audits[0].author_id in world.agent_ids
        notes += any(e.type == "Comment" and not e.public for a in ticket.audits for e in a.events)
        scores = [r.score for r in ticket.ratings]
        rated += len([s for s in scores if s in ("good", "bad")]) > 1
        offered_only += scores == ["offered"]
    assert {"closed", "deleted", "open", "pending"} <= statuses
    assert reopened and outbound and notes and rated and offered_only


def test_agents_are_assignees_before_any_role_change(world):
    first_assigned = {}
    for ticket_id in list(world.ticket_ids)[: world.n_agents]:
        for audit in world.ticket(ticket_id).audits:
            for event in audit.events:
                if event.field_name == "assignee_id" and event.value is not None:
                    first_assigned.setdefault(int(event.value), audit.at)
    changed = [a for a in world.agents if len(a.roles) > 1]
    assert changed, "the world should deactivate and downgrade some agents"
    for agent in changed:
        assert first_assigned[agent.id] < agent.roles[1].at


def test_nobody_acts_as_agent_after_losing_the_role(world):
    by_id = {a.id: a for a in world.agents}
    for ticket in world.tickets():
        for audit in ticket.audits:
            if audit.author_id in by_id:
                version = by_id[audit.author_id].version_at(audit.at)
                assert version.active and version.role in ("agent", "admin"), ticket.id
            for event in audit.events:
                if event.field_name == "assignee_id" and event.value is not None:
                    version = by_id[int(event.value)].version_at(audit.at)
                    assert version.active and version.role in ("agent", "admin")
        assert SYSTEM_USER_ID not in [e.author_id for a in ticket.audits for e in a.events]


def test_tenants_with_one_people_seed_share_customers_but_not_tickets():
    a = World(WorldConfig(tenant_id="a", seed=1, tickets=300, people_seed=9))
    b = World(WorldConfig(tenant_id="b", seed=2, tickets=300, people_seed=9))
    assert a.customer(3).email == b.customer(3).email
    assert a.ticket(10) != b.ticket(10)
    emails = [u.email for u in a.users()]
    assert len(emails) == len(set(emails))


def test_as_of_hides_the_future():
    world = World(WorldConfig(tickets=100))
    ticket = world.ticket(50)
    before = ticket.created_at - timedelta(seconds=1)
    assert ticket.state_at(before) is None and ticket.updated_at(before) is None
    middle = ticket.audits[1].at
    assert ticket.audits_at(middle) == ticket.audits[:2]
    assert ticket.updated_at(middle) == middle


def _peak_bytes(tickets: int) -> int:
    world = World(WorldConfig(tickets=tickets, days=max(30, tickets // 100)))
    world.ticket(1)  # people, groups and the roster scale with agents, not tickets: build them first
    tracemalloc.start()
    for _ in world.tickets():
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_world_size():
    # Holding 10,000 tickets would take tens of MB; streaming them holds one at a time.
    small, large = _peak_bytes(1_000), _peak_bytes(10_000)
    assert large < 256 * 1024, (small, large)
    assert large < small + 64 * 1024, (small, large)


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="tickets"):
        WorldConfig(tickets=0)
    with pytest.raises(ValueError, match="timezone"):
        WorldConfig(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="timezone-aware"):
        WorldConfig(start=datetime(2026, 1, 1))
    assert WorldConfig(start=datetime(2026, 1, 1, tzinfo=UTC)).start.tzinfo is UTC
