"""Keyed pseudonyms: the one key derivation for every person identifier deskpulse keeps.

A pseudonym is ``HMAC-SHA256(tenant secret, kind || value)`` as lowercase hex: stable across runs,
different across tenants, and not reversible without the tenant's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

MIN_SECRET_BYTES = 32
KEY_ID_LABEL = b"deskpulse key id"


class SecretError(ValueError):
    """A tenant secret is missing or too weak to key pseudonyms."""


def check_secret(secret: str | None, *, tenant_id: str, source: str) -> bytes:
    """Return the secret as bytes, or raise a message that names the tenant and where it came from
    (never anything about the secret itself, not even its length)."""
    if not secret:
        raise SecretError(f"tenant {tenant_id!r}: no pseudonymisation secret in {source}")
    raw = secret.encode("utf-8")
    if len(raw) < MIN_SECRET_BYTES:
        raise SecretError(f"tenant {tenant_id!r}: the secret in {source} must be at least "
                          f"{MIN_SECRET_BYTES} bytes long")
    return raw


SECRET_FILE_RULE = ("must be a regular file owned by the user running deskpulse, with no access for "
                    "group or others (chmod 600)")


def read_secret_file(path: Path, *, tenant_id: str) -> bytes:
    """The secret kept in ``path`` (surrounding whitespace ignored): a regular file owned by the
    running user that nobody else may read. The file is opened once and judged by what was opened,
    so it cannot be swapped between the check and the read; a FIFO or device is never read from.
    Errors name the path and the rule, never anything about the file's contents or mode."""
    source = f"secrets file {path}"
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise SecretError(f"tenant {tenant_id!r}: {source} does not exist or cannot be read") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if (not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid()
                or status.st_mode & (stat.S_IRWXG | stat.S_IRWXO)):
            raise SecretError(f"tenant {tenant_id!r}: {source} {SECRET_FILE_RULE}")
        try:
            text = file.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise SecretError(f"tenant {tenant_id!r}: {source} cannot be read as UTF-8 text") from None
    return check_secret(text.strip(), tenant_id=tenant_id, source=source)


def key_id(secret: bytes) -> str:
    """A short fingerprint telling which secret keyed a set of pseudonyms; reveals nothing of it."""
    return hmac.new(secret, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def pseudonym(secret: bytes, kind: str, value: object) -> str | None:
    """Pseudonym of ``value`` of the given kind (``user``, ``group``, ``email``, ...); None stays None.
    Text that is not valid Unicode (a lone surrogate, which a helpdesk can send as a JSON escape) is
    keyed as it is (``surrogatepass``): valid text keys exactly as UTF-8."""
    if value is None or value == "":
        return None
    message = f"{kind}{normalise(kind, value)}".encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def normalise(kind: str, value: object) -> str:
    """The canonical form of an identifier, so ``A@x.com`` and ``a@x.com `` share a pseudonym."""
    text = str(value).strip()
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return "".join(ch for ch in text if ch.isdigit() or ch == "+")
    return text
