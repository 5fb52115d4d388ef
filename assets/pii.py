"""What an e-mail address or a phone number looks like, for the quality scan and for alert text.

Every GX suite scans every text column for these shapes, and alerts redact them before they leave.
Bare digit strings are not flagged: they cannot be told from the platform ids raw tables hold.
"""

from __future__ import annotations

import re

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# International (+31 6 1234 5678, +1-555-555-0100) or grouped national ((020) 555 0100, 555-123-4567).
PHONE = r"\+\d[\d ().-]{6,}\d|(?<![\w.:/-])\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![\w.:/-])"
PATTERNS = {"email": EMAIL, "phone": PHONE}

_ANY = re.compile("|".join(f"(?:{pattern})" for pattern in PATTERNS.values()))


def redact(text: str) -> str:
    """``text`` with anything shaped like an e-mail address or phone number replaced."""
    return _ANY.sub("[redacted]", text)
