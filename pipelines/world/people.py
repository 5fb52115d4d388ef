"""Generated people for the synthetic world: Faker's name lists, drawn with our own seeded RNG.

Drawing from Faker's lists directly keeps a million customers fast and deterministic; every
name, e-mail and phone number is invented.
"""

from __future__ import annotations

import random
from itertools import accumulate

from faker.providers.internet.en_US import Provider as InternetProvider
from faker.providers.person.en_US import Provider as PersonProvider

_FIRST = list(PersonProvider.first_names)
_FIRST_WEIGHTS = list(accumulate(PersonProvider.first_names.values()))
_LAST = list(PersonProvider.last_names)
_LAST_WEIGHTS = list(accumulate(PersonProvider.last_names.values()))
_DOMAINS = [*InternetProvider.free_email_domains, "example.com", "example.org"]


def person(rng: random.Random, serial: int) -> tuple[str, str, str | None]:
    """A (name, e-mail, phone) triple; ``serial`` keeps the e-mail unique within a world."""
    first = rng.choices(_FIRST, cum_weights=_FIRST_WEIGHTS)[0]
    last = rng.choices(_LAST, cum_weights=_LAST_WEIGHTS)[0]
    email = f"{first}.{last}{serial}@{rng.choice(_DOMAINS)}".lower()
    phone = None
    if rng.random() < 0.7:
        phone = f"+1-{rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"
    return f"{first} {last}", email, phone
