"""``deskpulse subject-report`` on a real raw load: every place and value held about a customer,
read-only, written 0600 to the file named and nowhere else.

Expected values come from the world (the person's e-mail, ratings, tickets) and the key
derivation; the raw load is the one test_privacy_erase_cases makes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import stat

import pytest

from deskpulse import cli
from pipelines.ingest import home
from pipelines.ingest.keys import pseudonym
from pipelines.privacy import audit
from tests.ingest_support import SECRETS
from tests.test_privacy_erase_cases import _state, _tickets, acme, loaded  # noqa: F401 (fixtures)


def fingerprints(folder) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and not {"audit", "logs"} & set(p.relative_to(folder).parts)}


@pytest.fixture
def rated_customer(loaded):  # noqa: F811
    world = loaded["world"]
    tickets = _tickets(world)
    person = next(world.user(r.requester_id) for t in tickets for r in t.ratings)
    theirs = [t for t in tickets if _state(world, t)["requester_id"] == person.id]
    ratings = [r for t in tickets for r in t.ratings_at(world.end) if r.requester_id == person.id]
    return person, theirs, ratings


def report(acme, tmp_path, monkeypatch, *args):  # noqa: F811
    out = tmp_path / "report.json"
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(f"""tenants:
  - id: acme
    platform: zendesk
    base_url: {acme.base_url}
    credentials: {{email_env: ZENDESK_EMAIL, token_env: ZENDESK_TOKEN}}
    secret_env: ACME_SECRET
""")
    code = cli.main(["subject-report", "--tenant", "acme", "--tenants", str(tenants), "--out", str(out),
                     *args])
    return code, out


def test_the_report_holds_their_records_as_stored_and_every_place(acme, rated_customer, tmp_path,  # noqa: F811
                                                                  monkeypatch, capsys):
    person, theirs, ratings = rated_customer
    secret = SECRETS["acme"].encode()
    code, out = report(acme, tmp_path, monkeypatch, "--email", person.email)
    assert code == 0
    found = json.loads(out.read_text())
    assert found["found"] and found["subject"]["platform_user_ids"] == [person.id]
    (user,) = found["records"]["users"]
    assert user["email_token"] == pseudonym(secret, "email", person.email)
    assert user["name_token"] == pseudonym(secret, "name", person.name)
    assert user["user_key"] == pseudonym(secret, "user", person.id) and user["role"] == "end-user"
    assert sorted(r["id"] for r in found["records"]["satisfaction_ratings"]) == sorted(r.id for r in ratings)
    assert {r["score"] for r in found["records"]["satisfaction_ratings"]} == {r.score for r in ratings}
    held = found["held_in"]
    assert held["warehouse.duckdb:raw_acme.users.id"] == 1
    assert held["warehouse.duckdb:raw_acme.tickets.requester_id"] == len(theirs)
    assert held["warehouse.duckdb:raw_acme.satisfaction_ratings.requester_id"] == len(ratings)
    assert not found["suppressed"]
    printed = capsys.readouterr().out
    assert not [v for v in (person.email, str(person.id), user["email_token"]) if v in printed]


def test_the_report_is_read_only_0600_never_overwritten_and_audited(acme, rated_customer, tmp_path,  # noqa: F811
                                                                    monkeypatch):
    person, _, _ = rated_customer
    before = fingerprints(home.home())
    code, out = report(acme, tmp_path, monkeypatch, "--user-id", str(person.id))
    assert code == 0 and fingerprints(home.home()) == before
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    (entry,) = audit.entries("acme")
    assert entry["action"] == "subject-report" and entry["matched_by"] == "user id"
    assert entry["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert report(acme, tmp_path, monkeypatch, "--user-id", str(person.id))[0] == 2


def test_no_log_or_record_keeps_anything_of_the_report(acme, rated_customer, tmp_path, monkeypatch,  # noqa: F811
                                                       caplog):
    person, _, _ = rated_customer
    with caplog.at_level(logging.DEBUG):
        code, out = report(acme, tmp_path, monkeypatch, "--email", person.email)
    assert code == 0 and "subject report" in caplog.text
    found = json.loads(out.read_text())
    values = {person.email.lower(), person.name.lower(), *found["subject"]["tokens"]}
    logs = [p for p in (home.home() / "logs").rglob("*") if p.is_file()]
    texts = [p.read_text().lower() for p in logs]
    texts += [audit.log_path().read_text().lower(), caplog.text.lower()]
    for text in texts:
        assert not [v for v in values if v in text]
        assert not re.search(rf"(?<![0-9]){person.id}(?![0-9])", text)
