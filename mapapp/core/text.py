"""Text that PostgreSQL can store: no NUL (text columns refuse it) and no lone surrogate (not UTF-8)."""

import re
from typing import Annotated

from pydantic import AfterValidator

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
