"""Key rotation: re-key a tenant's pseudonyms with a new secret by extracting its data again.

Pseudonyms are HMACs of values deskpulse never keeps, so no table can be re-keyed in place: the
tenant's raw schemas and dlt state are dropped and everything is loaded again from the helpdesk
under the new secret, then the marts are rebuilt. Erased people stay out: during the reload the
suppression list is matched with the previous secret, and each suppressed person the reload meets
is written back under the new one. People the helpdesk no longer has cannot be re-keyed and leave
the list (there is nothing left to bring back); erased ticket ids stay.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.ingest.config import TenantConfig
from pipelines.ingest.keys import key_id
from pipelines.privacy import PrivacyError, audit, suppression
from pipelines.privacy.warehouse import connect, dlt_folders, drop_raw

logger = logging.getLogger(__name__)


class RotationError(PrivacyError):
    """The secrets given cannot rotate this tenant's keys."""


@dataclass
class Rotation:
    """What a rotation did: key fingerprints, rows reloaded over, suppressed people re-keyed."""

    tenant_id: str
    previous_key_id: str
    key_id: str
    dropped_rows: int
    rekeyed: int
    forgotten: int

    def lines(self) -> list[str]:
        return [f"tenant {self.tenant_id}: pseudonyms re-keyed (key {self.previous_key_id} -> {self.key_id})",
                f"  raw rows dropped and extracted again: {self.dropped_rows:,}",
                f"  erased people kept out under the new key: {self.rekeyed}"
                + (f" ({self.forgotten} no longer at the helpdesk, left the list)" if self.forgotten else "")]


def rotate_key(tenant: TenantConfig, previous: bytes, reload: Callable[[], None]) -> Rotation:
    """Drop the tenant's raw data and dlt state, ``reload`` it (the tenant's config now names the new
    secret; ``reload`` raises on failure) and re-key the suppression list."""
    current, old = key_id(tenant.secret()), key_id(previous)
    if current == old:
        raise RotationError(f"tenant {tenant.id!r}: its configured secret is still the previous one;"
                            " put the new secret in place first")
    listed = suppression.load(tenant.id)
    if listed.keyed and listed.key_id not in (old, current):
        raise RotationError(f"tenant {tenant.id!r}: the suppression list was keyed with neither secret")
    with connect() as con:
        dropped = sum(drop_raw(con, tenant.id).values())
    for folder in dlt_folders(tenant.id):
        shutil.rmtree(folder)
    with suppression.rekeying(tenant.id, previous) as found:
        reload()
    rekeyed = listed.key_id == old
    keys = frozenset(found.found) if rekeyed else listed.user_keys
    unlinked = frozenset(found.found_unlinked) if rekeyed else listed.unlinked_keys
    suppression.save(tenant.id, dataclasses.replace(listed, key_id=current, user_keys=keys,
                                                    unlinked_keys=unlinked))
    kept, before = len(keys) + len(unlinked), len(listed.user_keys) + len(listed.unlinked_keys)
    rotation = Rotation(tenant.id, old, current, dropped, kept, before - kept)
    audit.append("rotate-key", tenant.id, previous_key_id=old, key_id=current, rows_reloaded_over=dropped,
                 rekeyed=rotation.rekeyed, forgotten=rotation.forgotten)
    logger.info("tenant %s: pseudonyms re-keyed", tenant.id)
    return rotation
