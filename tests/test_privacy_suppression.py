"""The suppression hook: the rows the Zendesk source builds for an erased person or ticket never pass.

Rows come from the source's own row builders; the list is the file erasure writes. A list keyed
with another secret stops the load (fail closed) unless a rotate-key reload re-keys it.
"""

from __future__ import annotations

import pytest

from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.keys import pseudonym
from pipelines.platforms import PLATFORMS
from pipelines.privacy import suppression
from pipelines.privacy.suppression import SuppressionError, suppression_filter
from pipelines.sources.zendesk import event_rows, rating_row, settings, ticket_row, user_row

SECRET, NEW_SECRET = "s" * 40, "n" * 40
ERASED, OTHER, AGENT = 1_000_005, 1_000_006, 1_001
TENANT = TenantConfig(id="acme", platform="zendesk", base_url="https://acme.zendesk.com",
                      credentials=Credentials("E", "T"), secret_env="ACME_SECRET")
ZENDESK = PLATFORMS["zendesk"]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.setenv("ACME_SECRET", SECRET)


def erase(user_ids=(ERASED,), tickets=(7,)) -> None:
    suppression.add(TENANT, {pseudonym(SECRET.encode(), "user", u) for u in user_ids}, set(tickets))


def ticket(ticket_id: int, requester: int, assignee: int | None = AGENT) -> dict:
    return ticket_row("acme", SECRET.encode(), {"id": ticket_id, "requester_id": requester,
                                                "submitter_id": requester, "assignee_id": assignee})


def audit_events(ticket_id: int, author: int, field: str, value: str) -> list[dict]:
    children = [{"id": 1, "event_type": "Change", "field_name": field, "value": value},
                {"id": 2, "event_type": "Comment", "author_id": author, "public": True}]
    audit = {"id": ticket_id * 100, "ticket_id": ticket_id, "updater_id": author, "child_events": children}
    return list(event_rows("acme", SECRET.encode(), audit, settings.EVENT_FIELDS | {"360001"}))


def test_an_empty_list_passes_every_row_and_reads_no_secret(monkeypatch):
    monkeypatch.delenv("ACME_SECRET")
    rows = [ticket(1, ERASED)]
    assert suppression_filter(TENANT, ZENDESK.table("tickets"))(rows) == rows


def test_rows_naming_an_erased_person_or_ticket_are_dropped():
    erase()
    keep = {table: suppression_filter(TENANT, ZENDESK.table(table))
            for table in ("tickets", "ticket_events", "users", "satisfaction_ratings", "groups")}
    tickets = keep["tickets"]([ticket(7, OTHER), ticket(8, ERASED), ticket(9, OTHER, ERASED),
                               ticket(10, OTHER)])
    assert [t["id"] for t in tickets] == [10]
    events = keep["ticket_events"](
        audit_events(7, AGENT, "status", "open")  # an erased ticket
        + audit_events(11, ERASED, "status", "open")  # their comment and change
        + audit_events(12, AGENT, "assignee_id", str(ERASED))  # names them as assignee
        + audit_events(13, AGENT, "status", str(ERASED))  # a number that is no person field
    )
    assert [(e["ticket_id"], e["id"]) for e in events] == [(12, 2), (13, 1), (13, 2)]
    users = keep["users"]([user_row("acme", SECRET.encode(), {"id": u, "email": f"{u}@x.com"})
                           for u in (ERASED, OTHER)])
    assert [u["id"] for u in users] == [OTHER]
    ratings = keep["satisfaction_ratings"](
        [rating_row("acme", SECRET.encode(), {"id": i, "ticket_id": t, "requester_id": r})
         for i, t, r in ((1, 7, OTHER), (2, 20, ERASED), (3, 21, OTHER))])
    assert [r["id"] for r in ratings] == [3]
    groups = [{"tenant_id": "acme", "id": 1}]
    assert keep["groups"](groups) == groups


def test_the_list_holds_pseudonyms_and_ticket_ids_only_owner_readable():
    erase()
    path = suppression.privacy_dir("acme") / "suppression.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert str(ERASED) not in path.read_text()
    assert suppression.load("acme").ticket_ids == {7}


def test_a_list_keyed_with_another_secret_stops_the_load(monkeypatch):
    erase()
    monkeypatch.setenv("ACME_SECRET", NEW_SECRET)
    with pytest.raises(SuppressionError, match="rotate-key"):
        suppression_filter(TENANT, ZENDESK.table("users"))
    with pytest.raises(SuppressionError, match="rotate-key"):
        erase(user_ids=(OTHER,))


def test_a_rotate_key_reload_matches_with_the_previous_secret_and_collects_new_keys(monkeypatch):
    erase()
    monkeypatch.setenv("ACME_SECRET", NEW_SECRET)
    with suppression.rekeying("acme", SECRET.encode()) as found:
        keep = suppression_filter(TENANT, ZENDESK.table("tickets"))
        assert [t["id"] for t in keep([ticket(30, ERASED), ticket(31, OTHER)])] == [31]
    assert found.found == {pseudonym(NEW_SECRET.encode(), "user", ERASED)}


def unlink(tickets=(40, 41)) -> suppression.StandIn:
    version = user_row("acme", SECRET.encode(), {"id": AGENT, "role": "agent"})
    stripped = dict(version, id=-77, user_key="f" * 64, name_token=None, email_token=None)
    stand_in = suppression.StandIn("f" * 64, -77, frozenset(tickets), frozenset({(40, 360001)}), (stripped,))
    suppression.add_unlinked(TENANT, {pseudonym(SECRET.encode(), "user", AGENT)}, stand_in)
    return stand_in


def test_rows_naming_an_unlinked_agent_name_their_stand_in_every_time():
    stand_in = unlink()
    for _ in range(2):  # every later load: the same stand-in, from the list alone
        keep = {table: suppression_filter(TENANT, ZENDESK.table(table))
                for table in ("tickets", "ticket_events")}
        tickets = keep["tickets"]([ticket(40, OTHER), ticket(50, OTHER), ticket(51, OTHER, None)])
        # 50: a ticket they took part in after the erasure
        assert [(t["id"], t["assignee_id"]) for t in tickets] == [(40, -77), (51, None)]
        events = keep["ticket_events"](audit_events(41, AGENT, "assignee_id", str(AGENT))
                                       + audit_events(40, AGENT, "360001", "a note they wrote"))
        assert [(e["ticket_id"], e["author_id"], e["updater_id"], e["value"]) for e in events] == [
            (41, None, -77, "-77"), (41, -77, -77, None), (40, None, -77, None), (40, -77, -77, None)]
        # the key the loader writes beside an id is the stand-in's too, never the agent's own
        assert tickets[0]["assignee_key"] == events[0]["value_key"] == stand_in.key
        assert pseudonym(SECRET.encode(), "user", AGENT) not in repr(tickets + events)


def test_an_unlinked_agents_own_record_loads_as_their_stand_in_only():
    stand_in = unlink()
    users = suppression_filter(TENANT, ZENDESK.table("users"))(
        [user_row("acme", SECRET.encode(), {"id": u, "email": f"{u}@x.com"}) for u in (AGENT, OTHER)])
    assert [(u["id"], u["user_key"], u["email_token"]) for u in users] == [
        (-77, stand_in.key, None), (OTHER, pseudonym(SECRET.encode(), "user", OTHER),
                                    pseudonym(SECRET.encode(), "email", f"{OTHER}@x.com"))]


def test_values_an_unlinked_agent_wrote_load_blank():
    unlink()
    values = suppression_filter(TENANT, ZENDESK.table("ticket_field_values"))(
        [{"tenant_id": "acme", "ticket_id": 40, "field_id": 360001, "value": "their note"},
         {"tenant_id": "acme", "ticket_id": 40, "field_id": 360002, "value": "product_pro"}])
    assert [v["value"] for v in values] == [None, "product_pro"]


def test_a_rotate_key_reload_rekeys_unlinked_agents_apart(monkeypatch):
    unlink()
    monkeypatch.setenv("ACME_SECRET", NEW_SECRET)
    with suppression.rekeying("acme", SECRET.encode()) as found:
        users = suppression_filter(TENANT, ZENDESK.table("users"))(
            [user_row("acme", NEW_SECRET.encode(), {"id": AGENT})])
    assert [u["id"] for u in users] == [-77]
    assert found.found_unlinked == {pseudonym(NEW_SECRET.encode(), "user", AGENT)} and found.found == set()
