"""Reports: identifiers and reads shared by every door into reports."""

import secrets

# Crockford's base32 without I, L, O, U: easy to read aloud over the phone and to type.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id() -> str:
    """A short, unguessable public id such as 'R7K2M9QX4D'."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))
