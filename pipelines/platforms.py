"""The helpdesk platforms deskpulse can load: one line per platform, source and fake API together.

Adding a platform means writing its source and fake API and registering them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlt.extract.source import DltSource

from pipelines.zendesk import settings as zendesk_settings
from pipelines.zendesk import zendesk_source
from pipelines.zendesk.fake_api import FakeZendesk


@dataclass(frozen=True)
class Platform:
    """A platform's dlt source function (a tenant, a backfill date range or None, and the load's
    ``IngestReport`` or None), the fake API class that stands in for its service, the API path that
    feeds each raw table (tables not listed come from the tenant config), and the raw tables read
    incrementally (the rest are read whole on every load)."""

    source: Callable[..., DltSource]
    fake_api: type
    endpoints: dict[str, str]
    incremental_tables: frozenset[str]


PLATFORMS: dict[str, Platform] = {
    "zendesk": Platform(zendesk_source, FakeZendesk, zendesk_settings.RESOURCE_ENDPOINTS,
                        zendesk_settings.INCREMENTAL_TABLES),
}


def platform(name: str) -> Platform:
    """The registered platform called ``name``, or a clear error listing the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None
