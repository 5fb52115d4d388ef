"""Privacy and compliance: PII classes, erasure, suppression, retention, offboarding, key rotation, lineage.

Each module is one duty (docs/privacy.md explains them for operators and reviewers). Nothing here
imports Dagster: the ``deskpulse`` command wires these functions to the jobs that rebuild the marts.
"""


class PrivacyError(RuntimeError):
    """A privacy operation cannot go ahead as asked; the message says why and what to do."""
