"""Tenant file validation and secrets: errors name the file, the tenant and the field."""

from __future__ import annotations

import pytest

from pipelines.ingest.config import ConfigError
from pipelines.ingest.keys import SecretError, pseudonym
from pipelines.platforms import load_tenants

GOOD = """
tenants:
  - id: acme_eu
    platform: zendesk
    base_url: https://acme.zendesk.com/
    credentials: {email_env: ACME_EMAIL, token_env: ACME_TOKEN}
    secret_env: ACME_SECRET
    timezone: Europe/Amsterdam
    retention_days: 365
    start_date: 2025-06-01
  - id: local
    platform: zendesk
    base_url: http://127.0.0.1:8123
    credentials: {email_env: LOCAL_EMAIL, token_env: LOCAL_TOKEN}
    secret_env: LOCAL_SECRET
"""


def write(tmp_path, text: str):
    path = tmp_path / "tenants.yaml"
    path.write_text(text)
    return path


def test_a_good_file_becomes_typed_tenants(tmp_path):
    acme, local = load_tenants(write(tmp_path, GOOD))
    assert acme.id == "acme_eu" and acme.base_url == "https://acme.zendesk.com"
    assert acme.retention_days == 365 and acme.start_date.isoformat() == "2025-06-01T00:00:00+00:00"
    assert local.timezone is None and local.retention_days == 730


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: acme_eu", "id: Acme-EU", "tenant 'Acme-EU', field 'id'"),
        ("platform: zendesk\n    base_url: https://acme", "platform: helpscout\n    base_url: https://acme",
         "tenant 'acme_eu', field 'platform'"),
        ("https://acme.zendesk.com/", "http://acme.zendesk.com", "field 'base_url': plain http"),
        ("timezone: Europe/Amsterdam", "timezone: Amsterdam", "field 'timezone'"),
        ("retention_days: 365", "retention_days: -1", "field 'retention_days'"),
        ("secret_env: ACME_SECRET", "secret_env: 12", "field 'secret_env'"),
        ("secret_env: ACME_SECRET", "secret: hunter2", "field 'secret'"),
        ("id: local", "id: acme_eu", "configured twice"),
    ],
)
def test_bad_fields_are_named(tmp_path, old, new, message):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as error:
        load_tenants(path)
    assert str(path) in str(error.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_tenants(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_tenants(write(tmp_path, "tenants: [\n"))
    with pytest.raises(ConfigError, match="top-level 'tenants:'"):
        load_tenants(write(tmp_path, "tenants: []\n"))


def test_secrets_and_credentials_come_from_the_environment(tmp_path, monkeypatch):
    acme, _ = load_tenants(write(tmp_path, GOOD))
    monkeypatch.delenv("ACME_SECRET", raising=False)
    with pytest.raises(SecretError, match="tenant 'acme_eu': no pseudonymisation secret in environment"):
        acme.secret()
    monkeypatch.setenv("ACME_SECRET", "too-short")
    with pytest.raises(SecretError, match="at least 32"):
        acme.secret()
    monkeypatch.setenv("ACME_SECRET", "s" * 32)
    assert acme.secret() == b"s" * 32
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    monkeypatch.setenv("ACME_EMAIL", "ops@example.com")
    with pytest.raises(ConfigError, match="ACME_TOKEN is not set"):
        acme.credentials.resolve(acme.id)


def test_pseudonyms_are_keyed_stable_and_normalised():
    import hashlib
    import hmac

    key = b"k" * 32
    expected = hmac.new(key, b"emailana@example.com", hashlib.sha256).hexdigest()
    assert pseudonym(key, "email", " Ana@Example.com ") == expected
    assert pseudonym(key, "email", "ana@example.com") != pseudonym(b"j" * 32, "email", "ana@example.com")
    assert pseudonym(key, "user", 42) != pseudonym(key, "group", 42)
    assert pseudonym(key, "phone", None) is None


def test_the_api_retry_budget_is_minutes_per_tenant(tmp_path):
    budgeted = GOOD.replace("retention_days: 365", "retention_days: 365\n    retry_budget_minutes: 2.5")
    acme, local = load_tenants(write(tmp_path, budgeted))
    assert (acme.retry_budget_minutes, local.retry_budget_minutes) == (2.5, 5.0)
    for bad in ("0", "-1", "soon", "true", "2000"):
        path = write(tmp_path, GOOD.replace("retention_days: 365", f"retry_budget_minutes: {bad}"))
        with pytest.raises(ConfigError, match="tenant 'acme_eu', field 'retry_budget_minutes'"):
            load_tenants(path)
