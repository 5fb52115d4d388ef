"""Fake helpdesk APIs on 127.0.0.1: one package per platform, serving a synthetic world.

They stand in for the real services in tests, the demo and the benchmarks. A fake depends on the
world (``pipelines.world``) only, never on the source that reads it, and no production module
imports a fake.
"""

from __future__ import annotations

import importlib


def fake_api(platform: str) -> type:
    """The fake API class of ``platform``: ``FakeApi`` of the package ``pipelines.fakes.<platform>``."""
    try:
        return importlib.import_module(f"{__name__}.{platform}").FakeApi
    except ModuleNotFoundError:
        raise KeyError(f"no fake API for platform {platform!r}") from None
