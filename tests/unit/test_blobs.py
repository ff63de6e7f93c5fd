"""Bedrock's answers parsed without a character-by-character pass over their base64 (blobs.loads)
and written back out around it (blobs.dumps), and caller base64 decoded on its fast path: each must
give exactly what the slow way gives."""

from __future__ import annotations

import base64
from collections.abc import MutableMapping
from typing import Any

import orjson
import pytest

from app.bedrock import blobs
from app.http.spliced import SplicedResponse
from app.imaging.inputs import ImageInputError, decode_base64_image

BIG = blobs.BLOB_CHARS + 10
PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400).decode()


def as_text(value: object) -> object:
    """`value` with each view (a blob) read as the str it holds."""
    if isinstance(value, memoryview):
        return str(value, "ascii")
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: as_text(item) for key, item in value.items()}
    return value


def views_in(value: object) -> list[memoryview]:
    if isinstance(value, memoryview):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [view for item in items for view in views_in(item)]


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
    assert as_text(blobs.loads(raw)) == orjson.loads(raw) == answer


def test_base64_strings_are_views_of_the_answer_and_nothing_else_is() -> None:
    # The url-safe alphabet is not Bedrock's; 65,546 characters are not whole base64 quanta.
    answer = {"images": [PNG_B64, "_" + PNG_B64[1:]], "note": "A" * BIG, "error": None}
    raw = orjson.dumps(answer)
    parsed = blobs.loads(raw)
    first, second = parsed["images"]
    assert isinstance(first, memoryview)
    assert first.obj is raw
    assert str(first, "ascii") == PNG_B64
    assert isinstance(second, str)
    assert isinstance(parsed["note"], str)


def test_dumps_splices_each_view_between_the_json_around_it() -> None:
    raw = orjson.dumps({"images": [PNG_B64, PNG_B64]})
    parsed = blobs.loads(raw)
    answer = {
        "note": 'a "quoted" é',
        "images": [{"b64_json": v, "n": i} for i, v in enumerate(parsed["images"])],
    }
    pieces = blobs.dumps(answer)
    assert b"".join(pieces) == orjson.dumps(as_text(answer))
    views = [piece for piece in pieces if isinstance(piece, memoryview)]
    assert len(views) == 2
    assert all(view.obj is raw for view in views)
    assert bytes(pieces[0]).endswith(b'"b64_json":"')
    assert bytes(pieces[2]).startswith(b'","n":0}')


def test_dumps_without_views_is_orjson_and_refuses_what_orjson_refuses() -> None:
    value = {"mark-like": "\x00blob-0", "n": [1.5, None, True]}
    assert blobs.dumps(value) == [orjson.dumps(value)]
    with pytest.raises(TypeError, match="not JSON serializable"):
        blobs.dumps({"bad": {1, 2}})


async def test_a_spliced_response_sends_each_piece_with_its_length_declared() -> None:
    view = memoryview(PNG_B64.encode())
    pieces = blobs.dumps({"b64_json": view, "seed": 3})
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> MutableMapping[str, Any]:
        raise AssertionError("a response reads nothing")

    await SplicedResponse(pieces, headers={"Seed": "3"})({"type": "http"}, receive, send)
    start, *bodies = sent
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert (
        headers[b"content-length"] == str(len(PNG_B64) + len(b'{"b64_json":"","seed":3}')).encode()
    )
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"seed"] == b"3"
    assert [m["more_body"] for m in bodies] == [True, True, False]
    assert bodies[1]["body"] is view
    assert orjson.loads(b"".join(m["body"] for m in bodies)) == {"b64_json": PNG_B64, "seed": 3}


def test_a_string_that_looks_like_a_placeholder_stays_itself() -> None:
    answer = {"images": [PNG_B64], "note": "\x00blob-0", "other": "\x00blob-deadbeef-0"}
    assert as_text(blobs.loads(orjson.dumps(answer))) == answer


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


def test_decoded_takes_strict_base64_and_still_the_wrapped_kind() -> None:
    raw = bytes(range(256)) * 400
    strict = base64.b64encode(raw)
    assert blobs.decoded(strict.decode()) == raw
    assert blobs.decoded(memoryview(strict)) == raw
    # Lines of 76 characters, as MIME writes them: not strict, decoded as before.
    wrapped = base64.encodebytes(raw).decode()
    assert "\n" in wrapped
    assert blobs.decoded(wrapped) == raw
