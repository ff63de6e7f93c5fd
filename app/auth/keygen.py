"""Making a key and its stored hash, with the standard library alone.

`python -m app keys create` runs on any Python 3.11+ (no virtualenv, as the Docker section
runs it), so this module imports nothing from the gateway's dependencies; keys.py checks the
entries at start-up with the same rules.
"""

from __future__ import annotations

import hashlib
import secrets

HASH_PREFIX = "sha256:"
# Keys begin with a fixed prefix so secret scanners and people recognise them; 32 random bytes.
KEY_PREFIX = "big_"
_KEY_BYTES = 32
# A key's name is shown in logs, metrics and 403 answers.
NAME_MAX_LENGTH = 100


def hash_key(key: str) -> str:
    """The stored form of `key`: `sha256:<hex>`."""
    return HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key: the prefix and 256 bits from the OS's CSPRNG."""
    return KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
