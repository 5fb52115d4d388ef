"""Preflight: what a run needs from its configuration, checked in seconds before any work starts.

``deskpulse check`` runs it and prints what it found; ``run``, ``backfill`` and ``demo`` run it
first and stop before extracting anything when the configuration is wrong. Per tenant: every
environment variable the tenant file names is set, the login and the secret have the right form
(secrets differ between tenants, or their pseudonyms could be linked), and one authenticated
request, the platform's own login check (``pipelines.platforms``), accepts the login. Beside
the tenants: the settings read from the environment, and that nothing under ``DESKPULSE_HOME``
can be read by other users. Every problem names the tenant and the variable, file or host,
never a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.config import ConfigError, LoginError, TenantConfig
from pipelines.ingest.keys import SecretError
from pipelines.platforms import load_tenants

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no blank: a pasted newline or space is a mistake
LOGIN_CHECKS_AT_ONCE = 8


@dataclass
class TenantCheck:
    """What the checks found for one tenant: problems, or what its platform said of the login."""

    tenant: TenantConfig
    problems: list[str] = field(default_factory=list)
    login: str | None = None  # "login accepted (admin)"
    unavailable: bool = False  # the API could not be asked now; nothing wrong was found in the config

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Preflight:
    """The outcome of the checks: per tenant, and for the settings and files around them."""

    path: Path
    tenants: list[TenantCheck]
    settings: list[str] = field(default_factory=list)  # problems with settings read from the environment
    exposed: list[Path] = field(default_factory=list)  # under DESKPULSE_HOME, readable by other users

    @property
    def ok(self) -> bool:
        return not self.settings and not self.exposed and all(t.ok for t in self.tenants)

    @property
    def blocking(self) -> list[str]:
        """The problems that stop a run: wrong configuration. An API that cannot be reached now
        does not; that tenant's load fails on its own and the other tenants go on."""
        return [*self.settings,
                *(problem for t in self.tenants if not t.unavailable for problem in t.problems)]


def preflight(path: Path, only: Sequence[str] = (), *, login: bool = True,
              extra_settings: Sequence[Callable[[], object]] = ()) -> Preflight:
    """Check the tenant file at ``path`` and its tenants (those in ``only``, else all). ``login``
    makes the one authenticated request per tenant; ``extra_settings`` are readers of settings
    from the environment, each raising ``ConfigError`` when its setting is wrong."""
    from pipelines.ingest.file_modes import exposed, serving_group

    tenants = load_tenants(path)
    unknown = sorted(set(only) - {t.id for t in tenants})
    if unknown:
        raise ConfigError(f"{path}: tenant(s) {', '.join(unknown)} not in the tenant file")
    checks = [TenantCheck(t) for t in tenants if not only or t.id in only]
    secrets: dict[bytes, str] = {}
    for check in checks:
        _check_environment(check, secrets)
    if login:
        with ThreadPoolExecutor(max_workers=LOGIN_CHECKS_AT_ONCE) as pool:
            list(pool.map(_check_login, [check for check in checks if check.ok]))
    result = Preflight(Path(path), checks)
    for reader in (serving_group, *extra_settings):
        try:
            reader()
        except ConfigError as error:
            result.settings.append(str(error))
    if not result.settings:
        result.exposed = exposed()
    return result


def _check_environment(check: TenantCheck, secrets: dict[bytes, str]) -> None:
    """The variables the tenant names are set and hold values of the right form; its secret is
    its own. Every problem is listed, not only the first."""
    tenant, credentials = check.tenant, check.tenant.credentials
    forms = ((credentials.email_env, EMAIL, "an e-mail address"),
             (credentials.token_env, TOKEN, "an API token (printable characters, no spaces or line breaks)"))
    for name, form, what in forms:
        value = os.environ.get(name)
        if not value:
            check.problems.append(f"tenant {tenant.id!r}: environment variable {name} is not set")
        elif not form.fullmatch(value):
            check.problems.append(f"tenant {tenant.id!r}: environment variable {name} does not hold {what}")
    try:
        secret = tenant.secret()
    except SecretError as error:
        check.problems.append(str(error))
        return
    source = tenant.secret_env or str(tenant.secret_file)
    if secret in secrets:
        check.problems.append(f"tenant {tenant.id!r}: its secret ({source}) is the one of tenant "
                              f"{secrets[secret]!r}; each tenant needs its own, or their pseudonyms "
                              "can be linked")
    secrets.setdefault(secret, tenant.id)


def _check_login(check: TenantCheck) -> None:
    from pipelines.platforms import platform

    try:
        check.login = platform(check.tenant.platform).check_login(check.tenant)
    except LoginError as error:
        check.problems.append(str(error))
        check.unavailable = error.unavailable
