"""The bad-input corpus: every way a body can be wrong, each answered with a precise 4xx.

Each case is one request and the exact answer: status, problem type, and the field named in
`errors[].field` (or a phrase of `detail` when no single field is to blame). Every answer is
application/problem+json with a request id, never a 500, and no Bedrock call is made. A few cases
go through the Bedrock-compatible surface, which answers in Bedrock's own error shape. The body
cap is shown on a live server with raw sockets: a declared length over it is refused before a
byte of the body is sent, and a chunked body that never ends is refused once it passes the cap.

Decisions where callers could expect either (the last tests): base64 with whitespace or newlines,
url-safe base64 and data URLs are accepted; the bytes decide an image's type, whatever the file
name or declared type says; a UTF-8 byte order mark before JSON is ignored (RFC 8259 allows it);
null in an optional field means "not given"; numeric strings fill number fields (multipart needs
them); duplicate JSON keys are refused, as parsers disagree on which one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import FastAPI, Form
from PIL import Image

from app.http.handlers import install_error_handlers
from app.middleware.request_context import RequestContextMiddleware
from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, settings_for
from tests.support.hostile import corrupt_pixels, million_keys, png_chunk
from tests.support.live import GatewayServer

T2I = "/v1/images/text-to-image"
INPAINT = "/v1/images/inpaint"
VARIATIONS = "/v1/images/variations"
COLOR = "/v1/images/color-guided"
PROBLEM = "application/problem+json"


# --- bytes that are not what they claim -----------------------------------------------------


@cache
def png_bomb(side: int = 50_000) -> bytes:
    """A valid PNG whose header claims side x side RGB pixels; its IDAT, a few kilobytes of zlib,
    inflates to 64 MB of rows (all of it would be 7.5 GB)."""
    deflate = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    idat = b"".join(deflate.compress(block) for _ in range(64)) + deflate.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@cache
def jpeg_bomb() -> bytes:
    """rocket.jpg with its frame header claiming 65000x65000 pixels."""
    jpeg = bytearray(data("rocket.jpg"))
    sof = next(i for i in range(2, len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] == 0xC0)
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 65_000, 65_000)
    return bytes(jpeg)


def encoded(fmt: str, size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    """A small image in a format Pillow writes."""
    image = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


@cache
def animated_gif() -> bytes:
    frames = [Image.new("P", (32, 32), colour) for colour in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], loop=0)
    return out.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"/>'
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
COFFEE = data("coffee.png")  # 600x400
MASK = data("coffee-mask-black-edit.png")  # 600x400, black marks the pixels to edit
ROCKET = data("rocket.jpg")


@cache
def bad_crc_png() -> bytes:
    png = bytearray(COFFEE)
    png[len(png) // 2] ^= 0x01  # one bit of the pixel data: its chunk's CRC no longer matches
    return bytes(png)


def grey_photo() -> bytes:
    """coffee.png in grey: the right size for a mask, but a photo, not black and white."""
    with Image.open(io.BytesIO(COFFEE)) as image:
        out = io.BytesIO()
        image.convert("L").save(out, format="PNG")
        return out.getvalue()


def multipart_body(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    """A multipart/form-data body written by hand: (name, filename or None, content) per part."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content
        out += b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


MULTIPART = {"content-type": "multipart/form-data; boundary=b0undary"}
JSON_TYPE = {"content-type": "application/json"}


def inpaint_files(image: bytes = COFFEE, mask: bytes = MASK, name: str = "photo.png") -> Any:
    return {"image": (name, image, "image/png"), "mask": ("mask.png", mask, "image/png")}


# --- the corpus -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad request and the answer it must get."""

    id: str
    path: str
    status: int
    slug: str
    # The field `errors[]` must name; None when the problem is the body as a whole.
    field: str | None = None
    # A phrase of that field's message, or of `detail` when no field is named.
    says: str = ""
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    files: Any = None
    data: dict[str, Any] | None = None


V = "validation-error"
U = "unsupported-media-type"

# One case a line or three, as a table: the formatter would spread each over a dozen.
# fmt: off
CASES: list[Case] = [
    # Images that are not images, or not whole, or too big to decode.
    Case("png-bomb-50000", INPAINT, 422, V, "image", "is 50000x50000 pixels; at most 40000000",
         files=inpaint_files(png_bomb())),
    Case("jpeg-bomb-json", INPAINT, 422, V, "image", "is 65000x65000 pixels",
         json={"image": b64(jpeg_bomb()), "mask_prompt": "the cup"}),
    Case("png-bomb-mask", INPAINT, 422, V, "mask", "is 50000x50000 pixels",
         files=inpaint_files(mask=png_bomb())),
    Case("truncated-png", INPAINT, 422, V, "image", "is truncated or corrupt",
         files=inpaint_files(COFFEE[: len(COFFEE) // 2])),
    Case("truncated-jpeg", VARIATIONS, 422, V, "images[0]", "is truncated or corrupt",
         json={"images": [b64(ROCKET[: len(ROCKET) * 3 // 4])]}),
    Case("png-bad-crc", INPAINT, 422, V, "image", "is truncated or corrupt",
         files=inpaint_files(bad_crc_png())),
    # Pixel data that cannot be decoded behind valid CRCs: refused before any call, named.
    *(Case(f"corrupt-{name}", VARIATIONS, 422, V, "images[0]", "is truncated or corrupt",
           json={"images": [b64(png)]}) for name, png in corrupt_pixels().items()),
    Case("corrupt-mask", INPAINT, 422, V, "mask", "is truncated or corrupt",
         files=inpaint_files(mask=corrupt_pixels()["rgb8-noise-idat"])),
    Case("webp-for-titan", INPAINT, 415, U, "image",
         "is not a PNG or JPEG image (it is a WebP file)",
         files=inpaint_files(encoded("WEBP", (600, 400)), name="photo.webp")),
    Case("animated-gif-as-png", INPAINT, 415, U, "image", "(it is a GIF file)",
         files=inpaint_files(animated_gif())),
    Case("bmp-as-png", INPAINT, 415, U, "image", "(it is a BMP file)",
         files=inpaint_files(encoded("BMP"))),
    Case("svg", INPAINT, 415, U, "image", "(it is an SVG file)",
         files=inpaint_files(SVG, name="photo.svg")),
    Case("pdf", VARIATIONS, 415, U, "images[0]", "(it is a PDF file)",
         files={"images": ("scan.pdf", PDF, "application/pdf")}),
    Case("text-as-png", INPAINT, 415, U, "image", "(the bytes start with 'hell')",
         files=inpaint_files(b"hello, I am a PNG")),
    Case("empty-file", INPAINT, 422, V, "image", "is empty",
         files=inpaint_files(b"")),
    Case("gif-base64-json", INPAINT, 415, U, "image", "(it is a GIF file)",
         json={"image": b64(animated_gif()), "mask_prompt": "the cup"}),
    Case("invalid-base64", INPAINT, 422, V, "image", "is not valid base64",
         json={"image": "iVBORw0KGgo***", "mask_prompt": "the cup"}),
    Case("base64-length", INPAINT, 422, V, "image", "its length is not a whole number of bytes",
         json={"image": b64(COFFEE)[:-3], "mask_prompt": "the cup"}),
    Case("data-url-not-base64", INPAINT, 422, V, "image", "a data URL must be ';base64,' encoded",
         json={"image": "data:image/png,hello", "mask_prompt": "the cup"}),
    Case("image-a-number", INPAINT, 422, V, "image", "must be a base64 string",
         json={"image": 12345, "mask_prompt": "the cup"}),
    Case("image-an-object", INPAINT, 422, V, "image", "must be a base64 string",
         json={"image": {"url": "https://example.com/a.png"}, "mask_prompt": "the cup"}),
    # Masks of the wrong size or mode.
    Case("mask-wrong-size", INPAINT, 422, V, "mask", "is 512x512 but the image is 600x400",
         files=inpaint_files(mask=data("astronaut.png"))),
    Case("mask-a-photo", INPAINT, 422, V, "mask", "is not a black-and-white mask",
         files=inpaint_files(mask=grey_photo())),
    Case("mask-no-alpha", INPAINT, 422, V, "mask", "has no alpha channel",
         files=inpaint_files(), data={"mask_convention": "alpha-is-edit"}),
    Case("mask-convention", INPAINT, 422, V, "mask_convention", "",
         files=inpaint_files(), data={"mask_convention": "grey-is-edit"}),
    # Several images: the bad one is named by its index.
    Case("images-one-bad", VARIATIONS, 415, U, "images[1]", "(it is a GIF file)",
         files=[("images[]", ("a.png", COFFEE, "image/png")),
                ("images[]", ("b.png", animated_gif(), "image/png")),
                ("images[]", ("c.png", COFFEE, "image/png"))]),
    Case("images-six", VARIATIONS, 422, V, "images", "at most 5",
         files=[("images", (f"{i}.png", COFFEE, "image/png")) for i in range(6)]),
    Case("images-not-a-list", VARIATIONS, 422, V, "images", "valid list",
         json={"images": b64(COFFEE)}),
    # Multipart framing and limits.
    Case("too-many-files", VARIATIONS, 422, V, "images", "is past the limit of 8 file parts",
         files=[("images", (f"{i}.png", COFFEE, "image/png")) for i in range(9)]),
    Case("too-many-fields", INPAINT, 422, V, "f64", "is past the limit of 64 form fields",
         files=inpaint_files(), data={f"f{i}": "x" for i in range(70)}),
    Case("form-field-over-1mb", INPAINT, 422, V, "prompt", "is over 1 MiB (1048576 bytes)",
         files=inpaint_files(), data={"prompt": "x" * 1_100_000}),
    Case("form-field-latin-1", INPAINT, 422, V, "prompt",
         "is not UTF-8 text: byte 0xe9 at offset 3", headers=MULTIPART,
         content=multipart_body([("image", "p.png", COFFEE), ("mask", "m.png", MASK),
                                 ("prompt", None, "café".encode("latin-1"))])),
    Case("multipart-no-boundary", INPAINT, 400, "invalid-multipart", None, "has no boundary",
         headers={"content-type": "multipart/form-data"},
         content=multipart_body([("image", "p.png", COFFEE)])),
    Case("multipart-cut-short", INPAINT, 400, "invalid-multipart", None,
         "ends before the closing boundary", headers=MULTIPART,
         content=multipart_body([("image", "p.png", COFFEE)])[:-40]),
    Case("multipart-part-without-name", INPAINT, 400, "invalid-multipart", None, "has no name",
         headers=MULTIPART,
         content=b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b0undary--\r\n"),
    Case("json-labelled-multipart", INPAINT, 400, "invalid-multipart", None, "",
         headers=MULTIPART, content=b'{"image": "abc", "mask_prompt": "x"}'),
    Case("multipart-labelled-json", INPAINT, 400, "invalid-json", None,
         "Expecting value: line 1 column 1",
         headers=JSON_TYPE, content=multipart_body([("mask_prompt", None, b"the cup")])),
    Case("binary-multipart-labelled-json", INPAINT, 400, "invalid-json", None,
         "the body is not UTF-8: byte 0x89 at offset 78",
         headers=JSON_TYPE, content=multipart_body([("image", "p.png", COFFEE)])),
    Case("json-labelled-png", T2I, 415, U, None, "the body is image/png",
         headers={"content-type": "image/png"}, content=b'{"prompt": "a fox"}'),
    Case("multipart-for-text-to-image", T2I, 415, U, None, "takes application/json",
         files={"f": ("a.png", COFFEE, "image/png")}, data={"prompt": "a fox"}),
    # JSON text that is not UTF-8, or not JSON.
    Case("utf-16-json", T2I, 400, "invalid-json", None, "UTF-16 or UTF-32; JSON must be UTF-8",
         headers=JSON_TYPE, content='{"prompt": "a fox"}'.encode("utf-16")),
    Case("utf-16-json-no-bom", T2I, 400, "invalid-json", None, "UTF-16 or UTF-32",
         headers=JSON_TYPE, content='{"prompt": "a fox"}'.encode("utf-16-le")),
    Case("latin-1-json", T2I, 400, "invalid-json", None, "not UTF-8: byte 0xe9 at offset 15",
         headers=JSON_TYPE, content='{"prompt": "café"}'.encode("latin-1")),
    Case("nan", T2I, 400, "invalid-json", None, "NaN is not a JSON value",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "cfg_scale": NaN}'),
    Case("infinity", T2I, 400, "invalid-json", None, "Infinity is not a JSON value",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "cfg_scale": -Infinity}'),
    Case("trailing-comma", T2I, 400, "invalid-json", None, "line 1 column 20",
         headers=JSON_TYPE, content=b'{"prompt": "a fox",}'),
    Case("nested-too-deep", T2I, 400, "json-too-complex", None,
         "nests 100001 levels deep; at most 32 are read",
         headers=JSON_TYPE, content=b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    # Bodies within the byte cap that would cost far more than their size to parse or answer.
    Case("million-unknown-keys", T2I, 400, "json-too-complex", None,
         "the body has 1000001 strings (object keys included); at most 10000 are read",
         headers=JSON_TYPE, content=million_keys()),
    Case("1500-keys", T2I, 400, "json-too-complex", None,
         "the body has 1501 object keys; at most 1000 are read",
         json={"prompt": "a fox", **{f"k{i}": i for i in range(1500)}}),
    Case("20000-strings", COLOR, 400, "json-too-complex", None, "20005 strings",
         json={"prompt": "a fox", "model": "titan-v2", "colors": ["#000000"] * 20_000}),
    Case("nested-33", T2I, 400, "json-too-complex", None, "nests 33 levels deep",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "n": ' + b"[" * 32 + b"]" * 32 + b"}"),
    Case("900-unknown-keys", T2I, 422, V, "k0", "Extra inputs are not permitted",
         json={"prompt": "a fox", **{f"k{i}": i for i in range(900)}}),
    Case("number-5000-digits", T2I, 400, "invalid-json", None, "more than 4300 digits",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "seed": ' + b"9" * 5000 + b"}"),
    Case("duplicate-keys", T2I, 422, V, "prompt", "is given more than once",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "prompt": "a cat"}'),
    Case("unpaired-surrogate", T2I, 422, V, "prompt", "unpaired surrogate",
         headers=JSON_TYPE, content=b'{"prompt": "a fox \\ud800"}'),
    Case("empty-body", T2I, 422, V, "body", "a JSON object is required",
         headers=JSON_TYPE, content=b""),
    # Numbers out of any range, and wrong types, in every kind of field.
    Case("width-1e309", T2I, 422, V, "width", "is out of range",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "width": 1e309}'),
    Case("width-10e40", T2I, 422, V, "width", "less than or equal to 8192",
         json={"prompt": "a fox", "width": 10**40, "height": 512}),
    Case("seed-10e40", T2I, 422, V, "seed", "less than or equal to 4294967295",
         json={"prompt": "a fox", "seed": 10**40}),
    Case("n-10e40", T2I, 422, V, "n", "less than or equal to 10",
         json={"prompt": "a fox", "n": 10**40}),
    Case("n-1e309", T2I, 422, V, "n", "is out of range",
         headers=JSON_TYPE, content=b'{"prompt": "a fox", "n": -1e309}'),
    Case("seed-negative", T2I, 422, V, "seed", "greater than or equal to 0",
         json={"prompt": "a fox", "seed": -1}),
    Case("n-true", T2I, 422, V, "n", "must not be a boolean",
         json={"prompt": "a fox", "n": True}),
    Case("cfg-scale-false", T2I, 422, V, "cfg_scale", "must not be a boolean",
         json={"prompt": "a fox", "cfg_scale": False}),
    Case("width-fraction", T2I, 422, V, "width", "fractional part",
         json={"prompt": "a fox", "width": 512.5, "height": 512}),
    Case("width-a-word", T2I, 422, V, "width", "valid integer",
         json={"prompt": "a fox", "width": "wide", "height": 512}),
    Case("prompt-an-array", T2I, 422, V, "prompt", "valid string",
         json={"prompt": ["a fox", "a cat"]}),
    Case("prompt-a-number", T2I, 422, V, "prompt", "valid string",
         json={"prompt": 42}),
    Case("prompt-null", T2I, 422, V, "prompt", "valid string",
         json={"prompt": None}),
    Case("prompt-missing", T2I, 422, V, "prompt", "Field required",
         json={"negative_prompt": "blurry"}),
    Case("n-null", T2I, 422, V, "n", "valid integer",
         json={"prompt": "a fox", "n": None}),
    Case("prompt-100000", T2I, 422, V, "prompt", "at most 10000 characters",
         json={"prompt": "x" * 100_000}),
    Case("model-an-object", T2I, 422, V, "model", "valid string",
         json={"prompt": "a fox", "model": {"id": "titan"}}),
    Case("colors-not-hex", COLOR, 422, V, "colors[0]", "should match pattern",
         json={"prompt": "a fox", "model": "titan-v2", "colors": ["red"]}),
    Case("multipart-n-a-word", INPAINT, 422, V, "n", "valid integer",
         files=inpaint_files(), data={"n": "two"}),
]
# fmt: on


def check_problem(response: httpx.Response, case: Case) -> None:
    """The answer is exactly the case's problem, well formed."""
    assert response.status_code == case.status, response.text[:2000]
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == case.status
    assert problem["type"] == f"/problems/{case.slug}"
    assert problem["request_id"] == response.headers["x-request-id"]
    if case.field is None:
        assert case.says in problem["detail"], problem
        return
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert case.field in messages, problem
    assert case.says in messages[case.field], problem


def test_the_corpus_is_large_and_covers_every_answer() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.status for c in CASES} == {400, 415, 422}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input(gateway: httpx.AsyncClient, emulator: EmulatorServer, case: Case) -> None:
    response = await gateway.post(
        case.path,
        json=case.json,
        content=case.content,
        headers=case.headers,
        files=case.files,
        data=case.data,
    )
    check_problem(response, case)
    assert emulator.requests() == [], "no Bedrock call may be made for a bad request"


# --- the Bedrock-compatible surface reads images too ------------------------------------------

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"


def titan_inpaint(**params: Any) -> dict[str, Any]:
    return {
        "taskType": "INPAINTING",
        "inPaintingParams": {"text": "a cup of tea", "image": b64(COFFEE), **params},
    }


BEDROCK_CASES: list[tuple[str, str, bytes, str]] = [
    # id, model, body, the violation Bedrock's ValidationException must list
    (
        "gif-image",
        TITAN,
        httpx.Request(
            "POST", "/", json=titan_inpaint(image=b64(animated_gif()), maskPrompt="cup")
        ).read(),
        "#/inPaintingParams/image: is not a PNG or JPEG image (it is a GIF file)",
    ),
    (
        "bomb-mask",
        TITAN,
        httpx.Request("POST", "/", json=titan_inpaint(maskImage=b64(png_bomb()))).read(),
        "#/inPaintingParams/maskImage: is 50000x50000 pixels",
    ),
    (
        "bad-crc-variation",
        TITAN,
        httpx.Request(
            "POST",
            "/",
            json={
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {
                    "text": "tea",
                    "images": [b64(COFFEE), b64(bad_crc_png())],
                },
            },
        ).read(),
        "#/imageVariationParams/images/1: is truncated or corrupt",
    ),
    (
        "truncated-init-image",
        SDXL,
        httpx.Request(
            "POST",
            "/",
            json={"text_prompts": [{"text": "a rocket"}], "init_image": b64(ROCKET[:5000])},
        ).read(),
        "#/init_image: is truncated or corrupt",
    ),
    ("not-json", SDXL, b'{"text_prompts": [', "Malformed input request"),
    (
        "corrupt-pixels",
        TITAN,
        orjson.dumps(
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {
                    "text": "tea",
                    "images": [b64(corrupt_pixels()["rgba-noise-idat"])],
                },
            }
        ),
        "#/imageVariationParams/images/0: is truncated or corrupt",
    ),
    (
        "million-keys",
        TITAN,
        million_keys(),
        "Malformed input request: the body has 1000001 strings (object keys included)",
    ),
]


@pytest.mark.parametrize(
    ("model", "body", "violation"),
    [c[1:] for c in BEDROCK_CASES],
    ids=[c[0] for c in BEDROCK_CASES],
)
async def test_bad_input_on_the_bedrock_surface(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, body: bytes, violation: str
) -> None:
    """Bedrock's own shape: 400 ValidationException naming the caller's JSON path."""
    response = await gateway.post(f"/model/{model}/invoke", content=body)
    assert response.status_code == 400, response.text
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    assert violation in response.json()["message"]
    assert emulator.requests() == []


# --- decisions: what is accepted -----------------------------------------------------------


async def test_base64_with_newlines_url_safe_or_a_data_url_is_accepted(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    import base64

    for image in (
        base64.encodebytes(COFFEE).decode(),  # MIME style: a newline every 76 characters
        "  " + b64(COFFEE).replace("A", "A\r\n", 50) + "\n",
        base64.urlsafe_b64encode(COFFEE).decode().rstrip("="),
        "data:image/png;base64," + b64(COFFEE),
    ):
        response = await gateway.post(INPAINT, json={"image": image, "mask": b64(MASK)})
        assert response.status_code == 200, response.text
    sent = [r["body"]["inPaintingParams"]["image"] for r in emulator.requests()]
    assert sent == [b64(COFFEE)] * 4, "the image reaches Bedrock as its own bytes, re-encoded"


async def test_the_bytes_decide_the_type_not_the_name(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    jpeg = encoded("JPEG", (600, 400))
    response = await gateway.post(
        INPAINT, files=inpaint_files(jpeg, name="photo.png"), data={"prompt": "tea"}
    )
    assert response.status_code == 200, response.text
    assert emulator.requests()[0]["body"]["inPaintingParams"]["image"] == b64(jpeg)


async def test_a_byte_order_mark_before_json_is_ignored(gateway: httpx.AsyncClient) -> None:
    body = b"\xef\xbb\xbf" + b'{"prompt": "a fox", "width": 512, "height": 512}'
    response = await gateway.post(T2I, content=body, headers=JSON_TYPE)
    assert response.status_code == 200, response.text


async def test_null_in_an_optional_field_means_not_given(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        T2I,
        json={
            "prompt": "a fox",
            "width": 512,
            "height": 512,
            "seed": None,
            "negative_prompt": None,
        },
    )
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["images"][0]["seed"], int)


async def test_numeric_strings_fill_number_fields(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        T2I, json={"prompt": "a fox", "width": "512", "height": "512", "n": "2"}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["images"]) == 2


async def test_a_form_input_left_empty_is_not_given(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    """What a browser sends for a file input and a text input left empty."""
    body = multipart_body(
        [
            ("image", "p.png", COFFEE),
            ("mask", "", b""),
            ("mask_prompt", None, b"the cup"),
            ("negative_prompt", None, b""),
        ]
    )
    response = await gateway.post(INPAINT, content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert emulator.requests()[0]["body"]["inPaintingParams"]["maskPrompt"] == "the cup"


# --- the body cap ----------------------------------------------------------------------------


async def test_the_cap_holds_on_a_route_fastapi_reads_itself() -> None:
    """FastAPI turns errors met reading a route's form parameters into a plain 400; the cap's
    413 gets through."""
    app = FastAPI()

    @app.post("/form")
    async def form(prompt: Annotated[str, Form()]) -> dict[str, str]:
        return {"prompt": prompt}

    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=1000)

    async def chunks() -> Any:
        for _ in range(3):
            yield b"prompt=" + b"x" * 600

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        small = await client.post("/form", data={"prompt": "a fox"})
        assert small.json() == {"prompt": "a fox"}
        response = await client.post(
            "/form",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    check_problem(
        response,
        Case("form", "/form", 413, "payload-too-large", None, "over the limit of 1000 bytes"),
    )


@pytest.fixture
def small_cap(emulator: EmulatorServer) -> Any:
    with GatewayServer(settings_for(emulator, max_body_bytes=100_000)) as server:
        yield server


async def _hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "path",
    [
        T2I,
        INPAINT,
        "/model/amazon.titan-image-generator-v1/invoke",
        "/openai/v1/images/generations",
    ],
)
async def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_sent(
    small_cap: GatewayServer, emulator: EmulatorServer, path: str
) -> None:
    reader, writer = await asyncio.open_connection(small_cap.host, small_cap.port)
    try:
        # The headers only: the body never comes, yet the answer does.
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000000000\r\n\r\n".encode()
        )
        await writer.drain()
        status, headers, body = await asyncio.wait_for(_read_answer(reader), 30)
    finally:
        await _hang_up(writer)
    assert headers["x-request-id"]
    if path.startswith("/v1/"):
        assert status == 413
        assert headers["content-type"] == PROBLEM
    elif path.startswith("/model/"):
        # In Bedrock's own shape, as for a body over Bedrock's 25 MB: boto3 raises
        # ValidationException.
        assert status == 400
        assert headers["x-amzn-errortype"] == "ValidationException"
    else:
        assert status == 413
        assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert b"over the limit of 97.7 KiB (100000 bytes)" in body
    assert emulator.requests() == []


async def test_a_chunked_body_that_never_ends_is_refused_past_the_cap(
    small_cap: GatewayServer, emulator: EmulatorServer
) -> None:
    reader, writer = await asyncio.open_connection(small_cap.host, small_cap.port)
    writer.write(
        f"POST {T2I} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"%x\r\n%s\r\n" % (16_384, b" " * 16_384)

    async def send_forever() -> None:
        while True:
            writer.write(chunk)
            await writer.drain()

    sending = asyncio.create_task(send_forever())
    try:
        status, headers, body = await asyncio.wait_for(_read_answer(reader), 30)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        await _hang_up(writer)
    assert status == 413
    assert headers["content-type"] == PROBLEM
    assert b'"type":"/problems/payload-too-large"' in body
    assert emulator.requests() == []


async def test_an_unknown_model_name_is_quoted_only_in_part(gateway: httpx.AsyncClient) -> None:
    # The name is echoed so the caller recognises it, but not all of a 100 000-character one.
    response = await gateway.post(T2I, json={"prompt": "a fox", "model": "m" * 100_000})
    check_problem(response, Case("model-name-huge", T2I, 422, V, "model", "unknown model 'mmm"))
    [error] = response.json()["errors"]
    assert f"unknown model '{'m' * 100}...'" in error["message"]
    assert len(response.content) < 2_000
