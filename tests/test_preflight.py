"""``deskpulse check`` and the same checks before every run: the tenant file, its variables, the
form of each secret, and one authenticated request per tenant to a fake Zendesk on 127.0.0.1.
Problems name the tenant and the variable, never a value, and a run stops before extracting."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
import yaml

from deskpulse.cli import main
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.config import LoginError
from pipelines.platforms import PLATFORMS
from pipelines.preflight import preflight
from pipelines.world import World, WorldConfig

EMAIL, TOKEN = "ops@example.com", "s3cr3t-t0ken-value"
SECRETS = {"acme": "a" * 40, "beta": "b" * 40}


@pytest.fixture(scope="module")
def api():
    world = World(WorldConfig(tenant_id="acme", seed=3, tickets=10))
    with FakeZendesk(world, email=EMAIL, token=TOKEN) as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tenant_file(tmp_path: Path, base_urls: dict[str, str]) -> Path:
    entries = [{"id": tenant_id, "platform": "zendesk", "base_url": url,
                "credentials": {"email_env": f"{tenant_id.upper()}_EMAIL",
                                "token_env": f"{tenant_id.upper()}_TOKEN"},
                "secret_env": f"{tenant_id.upper()}_SECRET"} for tenant_id, url in base_urls.items()]
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": entries}))
    return path


@pytest.fixture
def configured(tmp_path, monkeypatch, api):
    """Two tenants on the fake API with every variable set right, in a fresh home."""
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path / "home"))
    for tenant_id, secret in SECRETS.items():
        monkeypatch.setenv(f"{tenant_id.upper()}_EMAIL", EMAIL)
        monkeypatch.setenv(f"{tenant_id.upper()}_TOKEN", TOKEN)
        monkeypatch.setenv(f"{tenant_id.upper()}_SECRET", secret)
    api.reset_stats()
    return tenant_file(tmp_path, {tenant_id: api.base_url for tenant_id in SECRETS})


def test_a_good_configuration_passes_with_one_request_per_tenant(configured, api, capsys):
    assert main(["check", "--tenants", str(configured)]) == 0
    out = capsys.readouterr().out
    assert "ok      acme" in out and "ok      beta" in out and "login accepted (admin)" in out
    assert "All checks passed" in out
    assert api.stats["current_user"]["requests"] == 2 and api.traffic["requests"] == 2


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("BETA_TOKEN", None, "tenant 'beta': environment variable BETA_TOKEN is not set"),
    ("BETA_EMAIL", "", "tenant 'beta': environment variable BETA_EMAIL is not set"),
    ("BETA_EMAIL", "ops at example", "tenant 'beta': environment variable BETA_EMAIL does not hold an "
                                     "e-mail"),
    ("BETA_TOKEN", TOKEN + "\n", "tenant 'beta': environment variable BETA_TOKEN does not hold an API token"),
    ("BETA_SECRET", "short-secret-value", "tenant 'beta': the secret in environment variable BETA_SECRET "
                                          "must be at least 32 bytes"),
    ("BETA_SECRET", SECRETS["acme"], "tenant 'beta': its secret (BETA_SECRET) is the one of tenant 'acme'"),
    ("BETA_TOKEN", "not-the-token", "tenant 'beta': 127.0.0.1:"),  # the API refuses the login
])
def test_each_problem_names_tenant_and_variable_never_the_value(configured, monkeypatch, capsys, api,
                                                                  variable, value, problem):
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    assert main(["check", "--tenants", str(configured)]) == 1
    out = capsys.readouterr().out
    assert problem in out and "ok      acme" in out and "1 problem(s) found" in out
    for shown in (value, TOKEN, SECRETS["acme"], SECRETS["beta"]):
        assert not shown or shown.strip() not in out.replace(str(configured), "")
    if variable == "BETA_TOKEN" and value == "not-the-token":
        assert "refused the login in BETA_EMAIL and BETA_TOKEN (HTTP 401)" in out
    else:
        assert api.stats.get("current_user", {}).get("requests") == 1  # no login tried with a bad config


def test_an_unreachable_api_is_named_in_seconds_and_does_not_stop_a_run(tmp_path, configured, monkeypatch):
    path = tenant_file(tmp_path, {"acme": f"http://127.0.0.1:{free_port()}"})
    (check,) = preflight(path).tenants
    assert check.unavailable and "cannot connect (connection refused" in check.problems[0]
    assert not preflight(path).ok and preflight(path).blocking == []


class AnonymousZendesk(http.server.BaseHTTPRequestHandler):
    """Answers users/me as Zendesk does a request it cannot tie to a login: an anonymous user."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"user": {"id": None, "name": "Anonymous user", "role": "end-user"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_an_anonymous_answer_is_a_refused_login(tmp_path, configured):
    server = http.server.HTTPServer(("127.0.0.1", 0), AnonymousZendesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = tenant_file(tmp_path, {"acme": f"http://127.0.0.1:{server.server_address[1]}"})
        (check,) = preflight(path).tenants
    finally:
        server.shutdown()
    assert not check.unavailable
    assert "anonymous visitor: the login in ACME_EMAIL and ACME_TOKEN" in check.problems[0]


def test_each_platform_checks_its_own_logins(configured, monkeypatch, api):
    """The check goes through the platform registry: a platform plugs in its own."""
    asked = []

    def check_login(tenant):
        asked.append(tenant.id)
        raise LoginError(f"tenant {tenant.id!r}: the other platform refused it")

    monkeypatch.setitem(PLATFORMS, "zendesk", PLATFORMS["zendesk"].__class__(
        **{**PLATFORMS["zendesk"].__dict__, "check_login": check_login}))
    result = preflight(configured, ["beta"])
    assert asked == ["beta"] and result.blocking == ["tenant 'beta': the other platform refused it"]
    assert api.traffic["requests"] == 0


@pytest.mark.parametrize("command", [["run"], ["backfill", "--start", "2026-01-01", "--end", "2026-02-01"]])
def test_a_run_stops_before_extracting_anything_when_the_configuration_is_wrong(
        configured, monkeypatch, capsys, api, tmp_path, command):
    monkeypatch.delenv("ACME_TOKEN")
    assert main([*command, "--tenants", str(configured)]) == 2
    err = capsys.readouterr().err
    assert "tenant 'acme': environment variable ACME_TOKEN is not set" in err
    assert "stopped before extracting anything" in err
    home = tmp_path / "home"
    assert not (home / "warehouse.duckdb").exists() and not (home / "dlt").exists()
    assert not (home / "dagster").exists()  # not even a Dagster run was started
    assert api.stats.get("current_user", {}).get("requests") == 1  # beta's login; acme's never asked
    assert not {"tickets", "users"} & set(api.stats)
