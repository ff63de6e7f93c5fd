"""JSON bodies measured before they are parsed: nesting depth, object keys and strings.

A body within the byte cap can still be costly to parse: a million one-character keys make a
million Python objects (and, unknown to the schema, a million errors). Measuring first is cheap:
one regular-expression pass replaces every string with `""` (C speed; a body of base64 images
shrinks to a few hundred bytes), and what is left is counted: its colons are the object keys, its
`""`s the strings, its brackets the nesting. Counts of a body that is not valid JSON are only
approximate; the parser then refuses it for what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..problems import ProblemError
from ..problems.types import JSON_TOO_COMPLEX
from ..settings import Settings

# A JSON string: quotes around anything but quotes and backslashes, or escapes. Possessive, so a
# string without its closing quote costs one pass, not a backtracking search.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
# +1 for an opening bracket, -1 for a closing one, 0 for anything else.
_STEPS = np.zeros(256, np.int8)
_STEPS[list(b"[{")] = 1
_STEPS[list(b"]}")] = -1


@dataclass(frozen=True)
class JsonBounds:
    """The most nesting, object keys and strings a JSON body may have, across the whole body."""

    depth: int
    keys: int
    strings: int

    @classmethod
    def of(cls, settings: Settings) -> JsonBounds:
        """The bounds `settings` configure."""
        return cls(settings.max_json_depth, settings.max_json_keys, settings.max_json_strings)


def too_complex(detail: str) -> ProblemError:
    """400 json-too-complex: a body past a bound, refused unparsed."""
    return JSON_TOO_COMPLEX.error(
        detail=detail,
    )


def check(raw: bytes, bounds: JsonBounds) -> None:
    """Raise json-too-complex when `raw`, read as JSON, is past a bound (without parsing it)."""
    # Every string has two quotes, less those escaped: a count at memory speed that is never
    # above the truth (`\\"` counts as escaped), so a body of a million keys costs no more.
    escapes = b"\\" in raw
    strings = (raw.count(b'"') - (raw.count(b'\\"') if escapes else 0)) // 2
    if strings > bounds.strings:
        raise _too_many_strings(strings, bounds)
    skeleton = _skeleton(raw, escapes)
    keys = skeleton.count(b":")
    if keys > bounds.keys:
        raise too_complex(f"the body has {keys} object keys; at most {bounds.keys} are read")
    strings = skeleton.count(b'""')
    if strings > bounds.strings:
        raise _too_many_strings(strings, bounds)
    if skeleton.count(b"[") + skeleton.count(b"{") <= bounds.depth:
        return  # cannot nest deeper than it has brackets
    steps = _STEPS[np.frombuffer(skeleton, np.uint8)]
    depth = int(np.cumsum(steps, dtype=np.int32).max())
    if depth > bounds.depth:
        raise too_complex(f"the body nests {depth} levels deep; at most {bounds.depth} are read")


def _skeleton(raw: bytes, escapes: bool) -> bytes:
    """`raw` with every string's content removed (each string left as `""`)."""
    if escapes:
        return _STRING.sub(b'""', raw)
    # No escapes (nearly every body): quotes alternate, open and close, and `bytes.find` reaches
    # each at memory speed, where the expression steps through a 3 MB base64 string at ~10 ns a
    # byte. An unterminated string keeps its text, as the expression leaves it.
    outside: list[bytes] = []
    at = 0
    while (start := raw.find(b'"', at)) >= 0 and (end := raw.find(b'"', start + 1)) >= 0:
        outside += (raw[at:start], b'""')
        at = end + 1
    outside.append(raw[at:])
    return b"".join(outside)


def _too_many_strings(count: int, bounds: JsonBounds) -> ProblemError:
    return too_complex(
        f"the body has {count} strings (object keys included); at most {bounds.strings} are read"
    )
