"""The helpdesk platforms deskpulse can load: one line per platform, source and fake API together.

Adding a platform means writing its source and fake API and registering them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlt.extract.source import DltSource

from pipelines.config import TenantConfig
from pipelines.zendesk import settings as zendesk_settings
from pipelines.zendesk import zendesk_source
from pipelines.zendesk.fake_api import FakeZendesk
from pipelines.zendesk.login import check_login as zendesk_check_login


@dataclass(frozen=True)
class Platform:
    """A platform's dlt source function (a tenant, a backfill date range or None, and the load's
    ``IngestReport`` or None), the fake API class that stands in for its service, the API path that
    feeds each raw table (tables not listed come from the tenant config), the raw tables read
    incrementally (the rest are read whole on every load), and its login check: one cheap
    authenticated request that says in words who the tenant's login is, or raises
    ``config.LoginError``."""

    source: Callable[..., DltSource]
    fake_api: type
    endpoints: dict[str, str]
    incremental_tables: frozenset[str]
    check_login: Callable[[TenantConfig], str]


PLATFORMS: dict[str, Platform] = {
    "zendesk": Platform(zendesk_source, FakeZendesk, zendesk_settings.RESOURCE_ENDPOINTS,
                        zendesk_settings.INCREMENTAL_TABLES, zendesk_check_login),
}


def platform(name: str) -> Platform:
    """The registered platform called ``name``, or a clear error listing the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None
