"""Reading the Idempotency-Key header: a structured-field String (RFC 8941), as the draft says.

A key is a quoted string of printable ASCII (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`), `\\` and
`"` escaped with a backslash. Most clients in the wild (Stripe's convention, SDKs that generate
retry keys) send the key bare, so a bare run of visible ASCII without quotes or backslashes is
taken as the key itself: refusing it would turn away the callers the header exists for. Anything
else is refused with a 400 saying what is wrong.
"""

from __future__ import annotations

from ..problems import FieldProblem, ProblemError
from ..problems.types import BAD_IDEMPOTENCY_KEY

HEADER = "Idempotency-Key"
MAX_LENGTH = 255


class BadIdempotencyKey(ProblemError):
    """400: the Idempotency-Key header is not a key the gateway can use."""

    def __init__(self, message: str) -> None:
        super().__init__(
            *BAD_IDEMPOTENCY_KEY.head,
            detail=f"{HEADER} {message}",
            errors=[FieldProblem(field=HEADER, message=message)],
        )


def parse_key(values: list[bytes]) -> str:
    """The key the header values carry, or BadIdempotencyKey."""
    if len(values) > 1:
        raise BadIdempotencyKey("is sent more than once: send one key")
    text = values[0].decode("latin-1").strip(" \t")
    if not text:
        raise BadIdempotencyKey('is empty: send a quoted key, e.g. "8e03978e-40d5-43e8"')
    if not text.startswith('"'):
        key, end = _bare(text), len(text)
    else:
        key, end = _sf_string(text)
    if end != len(text):
        raise BadIdempotencyKey("has something after its closing quote: send the string alone")
    if not key:
        raise BadIdempotencyKey("is an empty string: send a key of 1 to 255 characters")
    if len(key) > MAX_LENGTH:
        raise BadIdempotencyKey(f"is {len(key)} characters long: at most {MAX_LENGTH} are kept")
    return key


def _sf_string(text: str) -> tuple[str, int]:
    """The string that starts at text[0] (a quote) and the index just past its closing quote."""
    out: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ('"', "\\"):
                raise BadIdempotencyKey('escapes something other than " or \\ with a backslash')
            out.append(following)
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        if not " " <= char <= "~":
            raise BadIdempotencyKey(
                f"holds character {ord(char):#04x}: only printable ASCII is allowed"
            )
        out.append(char)
        index += 1
    raise BadIdempotencyKey("has no closing quote")


def _bare(text: str) -> str:
    """An unquoted key: visible ASCII only, so that it reads the same quoted or not."""
    for char in text:
        if not "!" <= char <= "~" or char in '"\\':
            raise BadIdempotencyKey(
                f"holds character {ord(char):#04x} outside quotes: send a bare key of visible "
                'ASCII or a quoted string, e.g. "8e03978e-40d5-43e8"'
            )
    return text
