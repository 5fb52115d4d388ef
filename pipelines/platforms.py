"""The helpdesk platforms deskpulse can load: one line per platform, source and fake API together.

Adding a platform means writing its source and fake API and registering them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlt.extract.source import DltSource

from pipelines.config import TenantConfig
from pipelines.zendesk import zendesk_source
from pipelines.zendesk.fake_api import FakeZendesk


@dataclass(frozen=True)
class Platform:
    """A platform's dlt source function and the fake API class that stands in for its service."""

    source: Callable[[TenantConfig], DltSource]
    fake_api: type


PLATFORMS: dict[str, Platform] = {
    "zendesk": Platform(zendesk_source, FakeZendesk),
}


def platform(name: str) -> Platform:
    """The registered platform called ``name``, or a clear error listing the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None
