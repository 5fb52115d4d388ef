"""Identifiers that come from outside (the tenant file, the command line, a request to the fake
API) must match their pattern in full: ``$`` also matches before a trailing newline, so
``"alpha\\n"`` passed as a tenant id and failed later, as a transient error."""

from __future__ import annotations

import base64

import pytest

from deskpulse.cli import main
from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.ingest.config import ConfigError
from pipelines.platforms import load_tenants
from pipelines.privacy.offboard import offboard_tenant
from pipelines.sources.zendesk import settings
from pipelines.world import World, WorldConfig

TENANTS = """
tenants:
  - id: acme_eu
    platform: zendesk
    base_url: https://acme.zendesk.com
    credentials: {email_env: ACME_EMAIL, token_env: ACME_TOKEN}
    secret_env: ACME_SECRET
"""


@pytest.mark.parametrize(("old", "new", "field"), [
    ("id: acme_eu", 'id: "acme_eu\\n"', "id"),
    ("email_env: ACME_EMAIL", 'email_env: "ACME_EMAIL\\n"', "credentials.email_env"),
    ("token_env: ACME_TOKEN", 'token_env: "ACME_TOKEN\\n"', "credentials.token_env"),
    ("secret_env: ACME_SECRET", 'secret_env: "ACME_SECRET\\n"', "secret_env"),
])
def test_tenant_file_identifiers_must_match_in_full(tmp_path, old, new, field):
    path = tmp_path / "tenants.yaml"
    path.write_text(TENANTS)
    assert load_tenants(path)[0].id == "acme_eu"
    path.write_text(TENANTS.replace(old, new, 1))
    with pytest.raises(ConfigError, match=f"field '{field}'"):
        load_tenants(path)


@pytest.mark.parametrize("argv", [
    ["run", "--tenant", "alpha\n"],
    ["check", "--tenant", "alpha\n"],
    ["offboard", "--tenant", "alpha\n"],
    ["rotate-key", "--tenant", "alpha", "--previous-secret-env", "OLD_SECRET\n"],
])
def test_command_line_identifiers_must_match_in_full(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and "is not" in capsys.readouterr().err


def test_offboarding_takes_only_a_whole_tenant_id():
    with pytest.raises(ValueError, match="not a tenant id"):
        offboard_tenant("alpha\n")


def test_the_fake_api_routes_whole_paths_and_whole_numbers():
    api = FakeZendesk(World(WorldConfig(tenant_id="acme", seed=1, tickets=5)))
    login = "Basic " + base64.b64encode(f"{DEFAULT_EMAIL}/token:{DEFAULT_TOKEN}".encode()).decode()
    assert api.handle(settings.GROUPS, {}, login).status == 200
    assert api.handle(settings.GROUPS + "\n", {}, login).status == 404
    cursor_export = settings.TICKETS_EXPORT
    assert api.handle(cursor_export, {"start_time": ["0"]}, login).status == 200
    for number in ("1_0", " 7", "7\n", "٧"):  # int() takes each of these
        assert api.handle(cursor_export, {"start_time": [number]}, login).status == 400, number
