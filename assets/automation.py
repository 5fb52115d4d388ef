"""Whether the schedules and sensors that start runs by themselves are on when an instance first
sees them: off, unless ``DESKPULSE_AUTOMATION=on``.

A newcomer's ``deskpulse dev`` on the demo tenants should not start hourly loads, nightly builds
and weekly purges by itself. A deployment sets the variable once; anyone can also turn one on in
the UI (Automation) or with ``dagster schedule start NAME`` / ``dagster sensor start NAME``, and
the instance then remembers that choice whatever the variable says. Kept apart from the
schedules so ``deskpulse check`` can read the setting without loading the graph.
"""

from __future__ import annotations

import os
import re

from pipelines.ingest.config import ConfigError

AUTOMATION_ENV = "DESKPULSE_AUTOMATION"
SWITCH = re.compile(r"on|off")


def automation_on() -> bool:
    """``DESKPULSE_AUTOMATION``: ``on`` or ``off`` (the default)."""
    value = os.environ.get(AUTOMATION_ENV) or "off"
    if not SWITCH.fullmatch(value):
        raise ConfigError(f"{AUTOMATION_ENV} must be on or off")
    return value == "on"
