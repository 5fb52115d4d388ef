"""Tenant secrets from a file (0600, exclusive with secret_env), key fingerprints, and the audit log chain."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.ingest.config import ConfigError
from pipelines.ingest.keys import SecretError, key_id
from pipelines.platforms import load_tenants
from pipelines.privacy import audit

SECRET = "file-secret-0123456789abcdef0123456789"
TENANT = """
tenants:
  - id: acme
    platform: zendesk
    base_url: https://acme.zendesk.com
    credentials: {email_env: ACME_EMAIL, token_env: ACME_TOKEN}
    SECRET_LINE
"""


def tenant_file(tmp_path: Path, secret_line: str, tenant_id: str = "acme") -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(TENANT.replace("SECRET_LINE", secret_line).replace("id: acme", f"id: {tenant_id}"))
    return path


def secret_file(tmp_path: Path, text: str = SECRET, mode: int = 0o600) -> Path:
    path = tmp_path / "keys" / "acme.secret"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_a_secret_file_named_relative_to_the_tenant_file_keys_the_tenant(tmp_path):
    secret_file(tmp_path)
    (tenant,) = load_tenants(tenant_file(tmp_path, "secret_file: keys/acme.secret"))
    assert tenant.secret_env is None and tenant.secret_file == tmp_path / "keys" / "acme.secret"
    assert tenant.secret() == SECRET.encode()


RULE = "must be a regular file owned by the user running deskpulse, with no access for group or others"


@pytest.mark.parametrize(("mode", "text", "message"), [
    (0o640, SECRET, RULE),
    (0o604, SECRET, RULE),
    (0o620, SECRET, RULE),  # others may not write it either
    (0o600, "short", "must be at least 32 bytes long"),
    (0o600, "", "no pseudonymisation secret in secrets file"),
])
def test_a_bad_secret_file_is_a_clear_error_that_never_shows_the_secret(tmp_path, mode, text, message):
    path = secret_file(tmp_path, text, mode)
    (tenant,) = load_tenants(tenant_file(tmp_path, "secret_file: keys/acme.secret"))
    with pytest.raises(SecretError, match=message) as error:
        tenant.secret()
    assert "tenant 'acme'" in str(error.value) and str(path) in str(error.value)
    assert SECRET not in str(error.value)
    said = str(error.value).replace(str(path), "")  # nothing about the file: not its mode, not its length
    assert f"{mode:o}" not in said and "mode" not in said and f"{len(text)} bytes" not in said


def test_a_secret_file_must_be_a_regular_file_of_the_running_user(tmp_path, monkeypatch):
    import os

    fifo = tmp_path / "keys" / "acme.secret"
    fifo.parent.mkdir()
    os.mkfifo(fifo, 0o600)  # reading it would block forever; it is refused unread
    (tenant,) = load_tenants(tenant_file(tmp_path, "secret_file: keys/acme.secret"))
    with pytest.raises(SecretError, match=RULE):
        tenant.secret()
    fifo.unlink()
    secret_file(tmp_path)
    assert tenant.secret() == SECRET.encode()
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)  # another user running deskpulse
    with pytest.raises(SecretError, match=RULE) as error:
        tenant.secret()
    assert str(fifo) in str(error.value)


def test_a_missing_secret_file_is_named(tmp_path):
    (tenant,) = load_tenants(tenant_file(tmp_path, "secret_file: keys/nope.secret"))
    with pytest.raises(SecretError, match="nope.secret does not exist"):
        tenant.secret()


@pytest.mark.parametrize(("line", "field"), [
    ("secret_env: ACME_SECRET\n    secret_file: keys/acme.secret", "secret_env"),
    ("timezone: UTC", "secret_env"),
    ("secret_file: 12", "secret_file"),
])
def test_exactly_one_secret_source_is_configured(tmp_path, line, field):
    with pytest.raises(ConfigError, match=f"field '{field}'"):
        load_tenants(tenant_file(tmp_path, line))


def test_tenant_ids_cannot_collide_with_dlt_staging_schemas(tmp_path):
    with pytest.raises(ConfigError, match="must not end in _staging"):
        load_tenants(tenant_file(tmp_path, "secret_env: X", tenant_id="acme_staging"))


def test_key_ids_tell_secrets_apart_and_reveal_nothing():
    first, second = key_id(b"a" * 32), key_id(b"b" * 32)
    assert first == key_id(b"a" * 32) and first != second and len(first) == 16
    assert "a" * 8 not in first


def test_the_audit_log_is_append_only_owner_readable_and_chained(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    audit.append("erase", "acme", subjects=["k1"], rows={"raw_acme.users": 1})
    audit.append("purge", "beta", rows={})
    assert [e["action"] for e in audit.entries()] == ["erase", "purge"]
    assert [e["tenant"] for e in audit.entries("acme")] == ["acme"]
    assert os.stat(audit.log_path()).st_mode & 0o777 == 0o600
    assert audit.verify()
    lines = audit.log_path().read_text().splitlines()
    edited = json.loads(lines[0]) | {"rows": {"raw_acme.users": 0}}
    audit.log_path().write_text("\n".join([json.dumps(edited, sort_keys=True), lines[1]]) + "\n")
    assert not audit.verify()
