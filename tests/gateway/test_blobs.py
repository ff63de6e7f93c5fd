"""Bedrock's answers parsed without a character-by-character pass over their base64 (blobs.loads),
and caller base64 decoded on its fast path: both must give exactly what the slow way gives."""

from __future__ import annotations

import base64

import orjson
import pytest

from app.bedrock import blobs
from app.imaging.inputs import ImageInputError, decode_base64_image

BIG = blobs.BLOB_CHARS + 10
PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400).decode()


@pytest.mark.parametrize(
    "answer",
    [
        {"images": [PNG_B64, PNG_B64[::-1]], "error": None},
        {"artifacts": [{"seed": 7, "base64": PNG_B64, "finishReason": "SUCCESS"}]},
        # Long strings that must go through orjson: escapes, quotes, non-ASCII, control chars.
        {"a": 'x"' + "A" * BIG + "\\", "b": "é" * BIG, "c": "\n" * BIG, "d": "/" * BIG},
        # A quote escaped after an even run of backslashes ends nothing; after an odd one it does.
        {"k": "\\\\" * 5 + '"' + "B" * BIG, "m": ["C" * BIG, {"n": "D" * BIG, "o": 1.5}]},
        {"small": "only short strings", "n": [1, 2, 3], "padding": "E" * 10},
    ],
)
def test_the_same_as_orjson(answer: dict[str, object]) -> None:
    raw = orjson.dumps(answer)
    if len(raw) < blobs.BLOB_CHARS:
        raw += b" " * blobs.BLOB_CHARS  # long enough to take the blob path; whitespace is JSON
    assert blobs.loads(raw) == orjson.loads(raw) == answer


def test_a_string_that_looks_like_a_placeholder_stays_itself() -> None:
    answer = {"images": [PNG_B64], "note": "\x00blob-0", "other": "\x00blob-deadbeef-0"}
    assert blobs.loads(orjson.dumps(answer)) == answer


@pytest.mark.parametrize(
    "raw",
    [
        b'{"images": ["' + b"A" * BIG,  # cut inside the blob
        b'{"images": ["' + b"A" * BIG + b'"',  # cut after it
        b'{"images": ["' + b"A" * BIG + b'"], "error": nul}',  # a bad literal beside it
    ],
)
def test_malformed_answers_are_refused_like_orjson(raw: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    with pytest.raises(orjson.JSONDecodeError):
        blobs.loads(raw)


DATA = bytes(range(256)) * 3 + b"\xfb\xff"
CANONICAL = base64.b64encode(DATA).decode()


@pytest.mark.parametrize(
    "text",
    [
        CANONICAL,
        CANONICAL.rstrip("="),
        base64.urlsafe_b64encode(DATA).decode(),
        "\n".join(CANONICAL[i : i + 76] for i in range(0, len(CANONICAL), 76)),
        f"data:image/png;base64,{CANONICAL}",
        f"  {CANONICAL}  ",
    ],
)
def test_every_base64_form_decodes_to_the_same_bytes(text: str) -> None:
    assert decode_base64_image(text) == DATA


@pytest.mark.parametrize("text", [CANONICAL[:-3] + "!==", "é" + CANONICAL, "AAAAA"])
def test_bad_base64_is_still_refused(text: str) -> None:
    with pytest.raises(ImageInputError):
        decode_base64_image(text)


def test_glibc_takes_the_allocator_settings() -> None:
    from app import allocator

    assert allocator.tune()
