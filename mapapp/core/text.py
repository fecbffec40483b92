"""Text that PostgreSQL can store: no NUL (text columns refuse it) and no lone surrogate (not UTF-8)."""

import re
from typing import Annotated

from pydantic import AfterValidator

# An address with one '@', a local part and a dotted domain: what a mail relay will take, without guessing more.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
EMAIL_MAX = 254


def is_email(value: str) -> bool:
    """True for something that can be an e-mail address (at most 254 characters)."""
    return len(value) <= EMAIL_MAX and EMAIL.match(value) is not None


# Only a broken decoder, or a JSON "\ud800" escape, produces a lone surrogate in a Python str.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """True when `value` holds neither NUL nor a lone surrogate."""
    return UNSTORABLE.search(value) is None


def _storable_or_error(value: str) -> str:
    if not storable(value):
        raise ValueError("contains a NUL character or a lone surrogate")
    return value


# For pydantic request models: `email: StorableStr` turns unstorable text into a 422, not a 500 at the query.
StorableStr = Annotated[str, AfterValidator(_storable_or_error)]
