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
    """A platform's dlt source function (a tenant, and a backfill date range or None), the fake API
    class that stands in for its service, and the API path that feeds each raw table (tables not
    listed come from the tenant config)."""

    source: Callable[..., DltSource]
    fake_api: type
    endpoints: dict[str, str]


PLATFORMS: dict[str, Platform] = {
    "zendesk": Platform(zendesk_source, FakeZendesk, zendesk_settings.RESOURCE_ENDPOINTS),
}


def platform(name: str) -> Platform:
    """The registered platform called ``name``, or a clear error listing the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None
