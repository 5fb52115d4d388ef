"""The helpdesk platforms deskpulse can load: one line per platform.

A platform is a source package under ``pipelines/sources/`` that builds a ``Platform``; adding one
means writing that package (and its fake API under ``pipelines/fakes/``, its staging models under
``dbt_project/models/staging/``) and adding its ``PLATFORM`` here.
"""

from __future__ import annotations

import os

from pipelines.ingest.config import TenantConfig, read_tenants
from pipelines.ingest.platform import Platform
from pipelines.sources import zendesk

PLATFORMS: dict[str, Platform] = {platform.name: platform for platform in (
    zendesk.PLATFORM,
)}


def platform(name: str) -> Platform:
    """The registered platform called ``name``, or a clear error listing the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None


def load_tenants(path: str | os.PathLike) -> list[TenantConfig]:
    """Parse and validate a tenant file; each tenant's platform must be a registered one."""
    return read_tenants(path, PLATFORMS)
