"""Tenant configuration: read once from YAML, validated at the edge, handed inside as typed objects.

The file (``--tenants PATH`` or ``DESKPULSE_TENANTS``) names, per tenant, where its helpdesk API is
and which environment variables hold its credentials and pseudonymisation secret. Secrets never sit
in the file. Every error names the file, the tenant and the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pipelines.ingest.keys import check_secret, read_secret_file

# Identifiers from outside (the tenant file, the command line, the environment) must match these in
# full: ``fullmatch``, since ``$`` also matches before a trailing newline.
TENANT_ID = re.compile(r"[a-z0-9_]{1,48}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_RETENTION_DAYS = 730
DEFAULT_RETRY_BUDGET_MINUTES = 5.0


class ConfigError(ValueError):
    """The tenant file is missing, malformed, or names something that does not exist."""


class LoginError(RuntimeError):
    """A platform did not accept a tenant's API login, or could not be asked. ``unavailable`` says
    the API could not be asked right now (down, unreachable, rate limited) rather than that it
    refused the login. The message names the tenant, the host and the variables, never a value."""

    def __init__(self, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.unavailable = unavailable


@dataclass(frozen=True)
class Credentials:
    """Names of the environment variables holding an API login; never the values."""

    email_env: str
    token_env: str

    def resolve(self, tenant_id: str) -> tuple[str, str]:
        """Read the login from the environment, or fail naming the tenant and variable."""
        values = []
        for name in (self.email_env, self.token_env):
            value = os.environ.get(name)
            if not value:
                raise ConfigError(f"tenant {tenant_id!r}: environment variable {name} is not set")
            values.append(value)
        return values[0], values[1]


@dataclass(frozen=True)
class TenantConfig:
    """One client account of one helpdesk platform."""

    id: str
    platform: str
    base_url: str
    credentials: Credentials
    secret_env: str | None = None
    secret_file: Path | None = None  # the alternative to secret_env: a file only its owner can read
    timezone: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    start_date: datetime = field(default=datetime(2000, 1, 1, tzinfo=UTC))
    custom_fields: tuple[int, ...] = ()  # ticket field ids whose values may be loaded (free text may be PII)
    retry_budget_minutes: float = DEFAULT_RETRY_BUDGET_MINUTES  # API failures in a row before the load stops

    def secret(self) -> bytes:
        """The tenant's pseudonymisation key, checked for presence and length."""
        if self.secret_file is not None:
            return read_secret_file(self.secret_file, tenant_id=self.id)
        return check_secret(
            os.environ.get(self.secret_env),
            tenant_id=self.id,
            source=f"environment variable {self.secret_env}",
        )


def tenants_path(explicit: str | os.PathLike | None = None) -> Path:
    """The tenant file named on the command line, else by ``DESKPULSE_TENANTS``."""
    value = explicit or os.environ.get("DESKPULSE_TENANTS")
    if not value:
        raise ConfigError("no tenant file: pass --tenants PATH or set DESKPULSE_TENANTS")
    return Path(value)


def read_tenants(path: str | os.PathLike, platforms: Collection[str]) -> list[TenantConfig]:
    """Parse and validate a tenant file whose tenants use one of ``platforms`` (the registered
    ones: ``pipelines.platforms.load_tenants`` passes them)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: tenant file not found")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    entries = document.get("tenants") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a top-level 'tenants:' list with at least one tenant")
    tenants = [_tenant(path, index, entry, platforms) for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for tenant in tenants:
        if tenant.id in seen:
            raise ConfigError(f"{path}: tenant {tenant.id!r} is configured twice")
        seen.add(tenant.id)
    return tenants


def _tenant(path: Path, index: int, entry: object, platforms: Collection[str]) -> TenantConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: tenants[{index}] must be a mapping")
    tenant_id = entry.get("id")
    where = f"{path}: tenant {tenant_id!r}" if tenant_id else f"{path}: tenants[{index}]"

    def fail(field_name: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}, field {field_name!r}: {problem}")

    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise fail("id", "required, 1-48 characters of lowercase a-z, 0-9 and _")
    if tenant_id.endswith("_staging"):
        raise fail("id", "must not end in _staging: raw_<id>_staging is dlt's staging copy of raw_<id>")
    known = {"id", "platform", "base_url", "credentials", "secret_env", "secret_file", "timezone",
             "retention_days", "start_date", "custom_fields", "retry_budget_minutes"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise fail(unknown[0], f"unknown field (known: {', '.join(sorted(known))})")

    platform = entry.get("platform")
    if platform not in platforms:
        raise fail("platform", f"must be one of {', '.join(sorted(platforms))}")

    base_url = entry.get("base_url")
    parsed = urlparse(base_url) if isinstance(base_url, str) else None
    if not parsed or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise fail("base_url", "must be an http(s) URL such as https://acme.zendesk.com")
    if parsed.scheme == "http" and parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise fail("base_url", "plain http is only allowed for a local fake API; use https")

    credentials = entry.get("credentials")
    if not isinstance(credentials, dict):
        raise fail("credentials", "must map email_env and token_env to environment variable names")
    for key in ("email_env", "token_env"):
        if not isinstance(credentials.get(key), str) or not ENV_NAME.fullmatch(credentials[key]):
            raise fail(f"credentials.{key}", "must name an environment variable")

    secret_env, secret_file = entry.get("secret_env"), entry.get("secret_file")
    if (secret_env is None) == (secret_file is None):
        raise fail("secret_env", "give exactly one of secret_env and secret_file")
    if secret_env is not None and (not isinstance(secret_env, str) or not ENV_NAME.fullmatch(secret_env)):
        raise fail("secret_env", "must name the environment variable holding the tenant secret")
    if secret_file is not None and (not isinstance(secret_file, str) or not secret_file.strip()):
        raise fail("secret_file", "must be the path of a file holding the tenant secret")

    timezone = entry.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise fail("timezone", "must be an IANA time zone such as Europe/Amsterdam") from None

    retention_days = entry.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not isinstance(retention_days, int) or isinstance(retention_days, bool) or retention_days < 1:
        raise fail("retention_days", "must be a positive whole number of days")

    start_date = entry.get("start_date", TenantConfig.start_date)
    if not isinstance(start_date, datetime):
        try:
            start_date = datetime.fromisoformat(str(start_date))
        except ValueError:
            raise fail("start_date", "must be a date such as 2024-01-01") from None
    if start_date.tzinfo is None:
        start_date = start_date.replace(tzinfo=UTC)

    custom_fields = entry.get("custom_fields", [])
    if not isinstance(custom_fields, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in custom_fields):
        raise fail("custom_fields", "must be a list of ticket field ids, such as [360001234567]")

    retry_budget = entry.get("retry_budget_minutes", DEFAULT_RETRY_BUDGET_MINUTES)
    if isinstance(retry_budget, bool) or not isinstance(retry_budget, int | float) \
            or not 0 < retry_budget <= 1440:
        raise fail("retry_budget_minutes", "must be a number of minutes between 0 and 1440, such as 5")

    return TenantConfig(
        id=tenant_id,
        platform=platform,
        base_url=base_url.rstrip("/"),
        credentials=Credentials(credentials["email_env"], credentials["token_env"]),
        secret_env=secret_env,
        secret_file=path.parent / secret_file if secret_file is not None else None,
        timezone=timezone,
        retention_days=retention_days,
        start_date=start_date,
        custom_fields=tuple(custom_fields),
        retry_budget_minutes=float(retry_budget),
    )
