"""The append-only audit log of privacy operations: what was done, to which pseudonyms, when, how many rows.

One JSON object per line in ``$DESKPULSE_HOME/audit/privacy.jsonl`` (mode 0600). Entries name
people only by pseudonym, never by e-mail or platform id. Each entry carries the SHA-256 of the
line before it, so an edited or deleted line breaks the chain that ``verify`` walks.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.ingest.home import home

GENESIS = "0" * 64


def log_path() -> Path:
    return home() / "audit" / "privacy.jsonl"


def append(action: str, tenant_id: str, **details: Any) -> dict[str, Any]:
    """Append one entry and return it."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "tenant": tenant_id,
             **details, "previous": _digest(_last_line(path))}
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=True) + "\n")
    return entry


def entries(tenant_id: str | None = None) -> list[dict[str, Any]]:
    """Every entry, oldest first; only one tenant's if asked."""
    path = log_path()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = [json.loads(line) for line in lines]
    return [entry for entry in found if tenant_id is None or entry["tenant"] == tenant_id]


def verify() -> bool:
    """Whether every entry names the digest of the line before it."""
    path = log_path()
    previous = None
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if json.loads(line)["previous"] != _digest(previous):
            return False
        previous = line
    return True


def _last_line(path: Path) -> str | None:
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[-1] if lines else None


def _digest(line: str | None) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest() if line is not None else GENESIS
